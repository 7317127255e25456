//! Maps a JSON pointer to a line and column in the definition text (temporary stand-in).

pub fn locate(_text: &str, _pointer: &str) -> Option<(usize, usize)> {
    None
}
