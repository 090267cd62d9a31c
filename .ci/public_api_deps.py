#!/usr/bin/env python3
"""Lists every public item of a crate whose signature names a type or trait of a crate
not in ALLOWED, and exits 1 if there is one (the review of issue 12 item 6; run by
.ci/api-stability, which says how).

Usage: public_api_deps.py RUSTDOC.json ALLOWED,CRATES,...

Reads rustdoc JSON (nightly: `cargo +nightly rustdoc -p CRATE --lib -- -Z unstable-options
--output-format json`). Blanket and auto-trait impls are skipped (they are the compiler's
and the dependency's, not API we chose). Prints `crate  path  <- item` per exposure.
"""
import json, sys, collections

ALLOWED = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else set()
doc = json.load(open(sys.argv[1]))
index, paths, crates = doc["index"], doc["paths"], doc["external_crates"]

def crate_of(id_):
    p = paths.get(str(id_))
    if p is None:
        return None, None
    cid = p["crate_id"]
    name = "self" if cid == 0 else crates[str(cid)]["name"]
    return name, "::".join(p["path"])

def names_in(value, out):
    if isinstance(value, dict):
        if "id" in value and "path" in value and isinstance(value.get("path"), str):
            c, full = crate_of(value["id"])
            if c and c != "self":
                out.add((c, full or value["path"]))
        for v in value.values():
            names_in(v, out)
    elif isinstance(value, list):
        for v in value:
            names_in(v, out)

def local_path(item_id):
    p = paths.get(str(item_id))
    return "::".join(p["path"]) if p else None

# parent links for nicer names
parent = {}
for iid, item in index.items():
    inner = item["inner"]
    for kind in ("module", "struct", "enum", "trait", "impl", "union"):
        if kind in inner:
            body = inner[kind]
            kids = list(body.get("items", []))
            kids += body.get("impls", [])
            if kind == "enum":
                kids += body.get("variants", [])
            if kind == "struct":
                k = body.get("kind", {})
                if isinstance(k, dict):
                    kids += (k.get("plain", {}) or {}).get("fields", [])
                    kids += [f for f in (k.get("tuple") or []) if f is not None]
            for kid in kids:
                parent[str(kid)] = iid

def describe(iid):
    item = index[iid]
    lp = local_path(iid)
    if lp:
        return lp
    name = item.get("name") or ""
    p = parent.get(iid)
    if p:
        pitem = index[p]
        if "impl" in pitem["inner"]:
            imp = pitem["inner"]["impl"]
            fp = imp["for"].get("resolved_path", {}).get("path", "?") if isinstance(imp["for"], dict) else "?"
            tr = imp["trait"]["path"] if imp.get("trait") else None
            return f"impl {tr + ' for ' if tr else ''}{fp} :: {name}"
        return f"{describe(p)}::{name}"
    return name

report = collections.defaultdict(set)
for iid, item in index.items():
    if item["crate_id"] != 0:
        continue
    inner = item["inner"]
    if "impl" in inner:
        imp = inner["impl"]
        if imp.get("blanket_impl") is not None or imp.get("is_synthetic"):
            continue
        out = set()
        names_in({"for": imp["for"], "trait": imp.get("trait"), "generics": imp.get("generics")}, out)
        tr = imp["trait"]["path"] if imp.get("trait") else ""
        fp = imp["for"].get("resolved_path", {}).get("path", "?") if isinstance(imp["for"], dict) else "?"
        for c, n in out:
            report[(c, n)].add(f"impl {tr + ' for ' if tr else ''}{fp}")
        continue
    if "module" in inner or "use" in inner:
        continue
    # skip items whose parent impl is blanket/synthetic
    p = parent.get(iid)
    if p and "impl" in index[p]["inner"]:
        imp = index[p]["inner"]["impl"]
        if imp.get("blanket_impl") is not None or imp.get("is_synthetic"):
            continue
    if item.get("visibility") not in ("public", "default"):
        continue
    out = set()
    # only the item's own signature, not its children (they are items themselves)
    sig = {k: v for k, v in inner.items()}
    for kind in ("struct", "enum", "trait", "union"):
        if kind in sig:
            body = dict(sig[kind])
            body.pop("impls", None); body.pop("items", None); body.pop("variants", None)
            if kind == "struct":
                body.pop("kind", None)
            sig = {kind: body}
    names_in(sig, out)
    for c, n in out:
        report[(c, n)].add(describe(iid))

found = 0
for (c, n), where in sorted(report.items()):
    if c in ALLOWED:
        continue
    for w in sorted(where):
        found += 1
        print(f"{c:22} {n:55} <- {w}")
sys.exit(1 if found else 0)
