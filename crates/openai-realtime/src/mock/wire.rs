//! The mock's dialect boundary: client frames are validated the way the service validates them
//! and read in the GA shape; server events, written in the GA shape, go out in the session's
//! dialect.

use serde_json::Value;

use crate::{ApiError, ClientEvent, Dialect, ServerEvent};

/// Validates a client frame strictly (the service's refusals, with its codes, messages and
/// params) and returns it in the GA shape. The refusal is boxed: it is the rare path.
pub(crate) fn decode_client(raw: &str, dialect: Dialect) -> Result<Value, Box<ApiError>> {
    let event = ClientEvent::decode_strict(raw, dialect).map_err(|e| Box::new(e.to_api_error()))?;
    let ga = match dialect {
        Dialect::Ga => serde_json::from_str(raw).ok(),
        _ => serde_json::from_str(&event.encode(Dialect::Ga)).ok(),
    };
    ga.ok_or_else(|| {
        Box::new(
            ApiError::new("invalid_request_error", "The event could not be parsed.")
                .with_code("invalid_event"),
        )
    })
}

/// Writes a GA-shaped server event in the dialect; `None` for events the dialect lacks.
pub(crate) fn encode_server(mut event: Value, dialect: Dialect) -> Option<String> {
    if dialect == Dialect::Ga {
        return Some(event.to_string());
    }
    // The beta dialect has one item event, `conversation.item.created`, where GA has
    // `.added` and `.done`.
    match event["type"].as_str() {
        Some("conversation.item.done") => return None,
        Some("conversation.item.added") => event["type"] = Value::from("conversation.item.created"),
        _ => {}
    }
    let ga = event.to_string();
    match ServerEvent::decode(&ga, Dialect::Ga) {
        Ok(decoded) => Some(decoded.encode(dialect)),
        Err(error) => {
            tracing::warn!(%error, event = %ga, "mock: cannot translate event to the beta dialect; sending it as GA");
            Some(ga)
        }
    }
}
