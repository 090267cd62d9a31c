//! Payload types shared by events: the session configuration, audio formats, voices, tools,
//! conversation items and responses.

pub mod audio_format;
pub mod item;
pub mod response;
pub mod session;
pub mod tool;
pub mod voice;
