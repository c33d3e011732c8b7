//! Set commands (being written, issue 3): a command enters the table once its handler exists.
