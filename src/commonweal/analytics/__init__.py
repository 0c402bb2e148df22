"""Pure computation: arrays, frames and graphs in, results out. No I/O, no database, no web."""
