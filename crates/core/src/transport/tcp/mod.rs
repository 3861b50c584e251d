pub mod cc;
pub mod isn;
pub mod sack;
pub mod syncookie;
