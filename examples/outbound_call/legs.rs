//! The bridge's two legs for one call: `voice-bridge`'s Twilio adapter over the accepted
//! socket, and its OpenAI adapter over the Realtime client.

use openai_realtime::RealtimeSession;
use twilio_media_stream::rest;
use twilio_media_stream::server::MediaSocket;
use voice_bridge::adapter::openai::OpenAiLeg;
use voice_bridge::adapter::twilio::TwilioLeg;

/// The Twilio leg of the bot's calls, over the accepted media stream.
pub type CallLeg = TwilioLeg<MediaSocket>;

/// The call leg over an accepted media stream. With a REST client the leg hangs up
/// through Twilio's API, so the TwiML's spoken fallback after `</Connect>` is only heard
/// when the agent fails.
pub fn call_leg(socket: MediaSocket, rest: Option<rest::Client>) -> CallLeg {
    let leg = TwilioLeg::new(socket);
    match rest {
        Some(client) => leg.with_rest(client),
        None => leg,
    }
}

/// The agent leg: a Realtime session configured for the appointment, speaking first (an
/// outbound call's greeting). It connects when the bridge first asks it for an event; a
/// refused connection becomes the leg's end, and the caller gets the fallback.
pub fn agent_leg(config: openai_realtime::client::Config, session: RealtimeSession) -> OpenAiLeg {
    OpenAiLeg::builder(config)
        .session(session)
        .speak_first(true)
        .build()
}
