//! Input: what the user types, from the PS/2 keyboard and the serial port,
//! as [`key::Key`]s for the shell.
//!
//! Data flows one way: the devices' interrupt handlers push raw bytes into
//! fixed-size queues, the decoders turn them into keys, the shell reads the
//! keys. Pure pieces (the key type, the decoders, the queue) are host-tested.

pub mod key;
