//! Placeholder: the affinity plugin lands with issue 3.
