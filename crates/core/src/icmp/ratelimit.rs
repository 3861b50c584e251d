//! To be written (issue #3).
