//! The bridge's two legs for one call: `voice-bridge`'s Twilio adapter over the accepted
//! socket, and its OpenAI adapter over the Realtime client or the GPT-Live client, as the
//! model chooses.

use twilio_media_stream::rest;
use twilio_media_stream::server::MediaSocket;
use voice_bridge::adapter::openai::OpenAiLeg;
use voice_bridge::adapter::twilio::TwilioLeg;
use voice_bridge::{AgentLeg, OpenAiLiveLeg};

use crate::appointment::Appointment;
use crate::config::AgentConfig;
use crate::tools::{live_session, session};

/// The Twilio leg of the bot's calls, over the accepted media stream.
pub type CallLeg = TwilioLeg<MediaSocket>;

/// The agent leg of the bot's calls: Realtime or GPT-Live behind the one trait (one
/// allocation per call).
pub type AgentLegBox = Box<dyn AgentLeg>;

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

/// The agent leg for `appointment`, speaking first (an outbound call's greeting). It
/// connects when the bridge first asks it for an event; a refused connection becomes the
/// leg's end, and the caller gets the fallback.
///
/// - A Realtime model: a Realtime session with the appointment's instructions and tools.
/// - A `gpt-live` model: a GPT-Live session with the same instructions, G.711 mu-law both
///   ways, the tools as a Responses delegation ([`live_session`]), and the greeting
///   as the model's first commentary (Live's way to speak first).
pub fn agent_leg(agent: &AgentConfig, appointment: &Appointment) -> AgentLegBox {
    if agent.is_live() {
        let leg = OpenAiLiveLeg::builder(agent.live_client_config())
            .session(live_session(
                appointment,
                &agent.model,
                agent.voice.as_ref(),
            ))
            .greeting(appointment.greeting())
            .build();
        return Box::new(leg);
    }
    Box::new(
        OpenAiLeg::builder(agent.client_config())
            .session(session(appointment, agent.voice.as_ref()))
            .speak_first(true)
            .build(),
    )
}
