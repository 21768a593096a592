//! Placeholder: the web app lands with issue 4.
