//! The keyword pass: where any rule's keyword occurs in a file, ASCII case
//! ignored, overlapping hits included.
//!
//! Every rule's keywords are compiled into one Aho-Corasick DFA (the
//! `aho-corasick` crate builds it). With some three hundred keywords of many
//! first letters no SIMD prefilter applies, so the scan is one table lookup
//! per byte — and each lookup needs the state the previous one returned, so
//! a single pass over a file waits on memory for every byte (0.7 GB/s per
//! core here, keywords alone). The file is therefore cut into [`STREAMS`]
//! pieces that are walked side by side in one loop: their lookups do not
//! depend on each other, so the processor overlaps them, and the pass runs
//! three times as fast with the same automaton (2.3 GB/s; two pieces give
//! 1.4, eight 2.1: see BENCHMARKS.md). Each piece but the first starts a
//! keyword's length early, so a keyword that straddles a cut is still seen
//! whole, and reports only hits that end inside it: every hit is found
//! exactly once, and hits come out in order of where they end, as a plain
//! overlapping search gives them.

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// How many pieces of a file are walked side by side.
const STREAMS: usize = 4;
// The loop below names the four pieces.
const _: () = assert!(STREAMS == 4);

/// Below this many bytes a file is walked in one piece: cutting it would
/// cost more than it saves.
const SPLIT_FROM: usize = 16 * 1024;

/// One occurrence of a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Which keyword, by its index in the list the set was built from.
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

/// Keywords, matched ignoring ASCII case.
#[derive(Debug, Clone)]
pub(crate) struct KeywordSet {
    dfa: DFA,
    start: aho_corasick::automaton::StateID,
}

impl KeywordSet {
    /// A set that finds `words`.
    pub fn new(words: &[String]) -> Result<KeywordSet, String> {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words)
            .map_err(|error| error.to_string())?;
        let start = dfa.start_state(Anchored::No).map_err(|error| error.to_string())?;
        Ok(KeywordSet { dfa, start })
    }

    /// Every keyword hit in `data`, in order of end (and, at one end, of
    /// keyword index).
    pub fn hits(&self, data: &[u8]) -> Vec<Hit> {
        self.hits_cut_from(data, SPLIT_FROM)
    }

    /// [`Self::hits`], with buffers of `split_from` bytes and more cut
    /// into pieces (so tests and the fuzz target can compare one pass with
    /// pieces over buffers of any length).
    pub fn hits_cut_from(&self, data: &[u8], split_from: usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        if data.len() < split_from {
            let mut state = self.start;
            for (at, &byte) in data.iter().enumerate() {
                state = self.dfa.next_state(Anchored::No, state, byte);
                if self.dfa.is_match(state) {
                    self.record(state, at + 1, &mut hits);
                }
            }
            return hits;
        }
        let piece = data.len() / STREAMS;
        let lead = self.dfa.max_pattern_len().saturating_sub(1);
        let mut found: [Vec<Hit>; STREAMS] = Default::default();
        let mut states = [self.start; STREAMS];
        // Each piece after the first reads the `lead` bytes before it first,
        // keeping no hit: any hit ending there belongs to the piece before.
        for (stream, state) in states.iter_mut().enumerate().skip(1) {
            let begin = stream * piece;
            for &byte in &data[begin.saturating_sub(lead)..begin] {
                *state = self.dfa.next_state(Anchored::No, *state, byte);
            }
        }
        let [first, second, third, fourth] =
            [0, 1, 2, 3].map(|stream| &data[stream * piece..(stream + 1) * piece]);
        let side_by_side = first.iter().zip(second).zip(third).zip(fourth);
        for (offset, (((&a, &b), &c), &d)) in side_by_side.enumerate() {
            for (stream, byte) in [a, b, c, d].into_iter().enumerate() {
                states[stream] = self.dfa.next_state(Anchored::No, states[stream], byte);
                if self.dfa.is_match(states[stream]) {
                    self.record(states[stream], stream * piece + offset + 1, &mut found[stream]);
                }
            }
        }
        // What the cuts left over, after the last piece.
        let last = STREAMS - 1;
        for (at, &byte) in data.iter().enumerate().skip(STREAMS * piece) {
            states[last] = self.dfa.next_state(Anchored::No, states[last], byte);
            if self.dfa.is_match(states[last]) {
                self.record(states[last], at + 1, &mut found[last]);
            }
        }
        found.concat()
    }

    /// The hits of match state `state`, all ending at `end`.
    #[cold]
    fn record(&self, state: aho_corasick::automaton::StateID, end: usize, hits: &mut Vec<Hit>) {
        for index in 0..self.dfa.match_len(state) {
            let pattern = self.dfa.match_pattern(state, index);
            let start = end - self.dfa.pattern_len(pattern);
            hits.push(Hit { pattern: pattern.as_usize(), start, end });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;

    /// The hits a plain overlapping search gives, for comparison.
    fn plain(words: &[String], data: &[u8]) -> Vec<Hit> {
        let automaton = AhoCorasick::builder().ascii_case_insensitive(true).build(words).expect("automaton");
        automaton
            .find_overlapping_iter(data)
            .map(|hit| Hit { pattern: hit.pattern().as_usize(), start: hit.start(), end: hit.end() })
            .collect()
    }

    #[test]
    fn hits_across_the_cuts_are_found_once_and_in_order_as_a_plain_search_finds_them() {
        let words: Vec<String> =
            ["ghp_", "secret", "SECRET_KEY", "key", "x", "password", "aws_secret_access_key"]
                .map(String::from)
                .into();
        let set = KeywordSet::new(&words).expect("set");
        // Pseudo-random text of letters, underscores and spaces with the
        // keywords sprinkled in, at many lengths, so keywords fall across
        // every cut at every offset.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"abcdeKkYySsEeCcRrTt_ x\n";
        for length in (0..70_000).step_by(997) {
            let mut data = Vec::with_capacity(length);
            while data.len() < length {
                if next() % 40 == 0 {
                    let word = &words[(next() % words.len() as u64) as usize];
                    data.extend(word.bytes().map(|byte| {
                        if next() % 2 == 0 {
                            byte.to_ascii_uppercase()
                        } else {
                            byte
                        }
                    }));
                } else {
                    data.push(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
            }
            data.truncate(length);
            assert_eq!(set.hits(&data), plain(&words, &data), "length {length}");
        }
    }

    #[test]
    fn tiny_buffers_cut_into_pieces_give_what_one_pass_gives() {
        let words: Vec<String> = ["ab", "b", "abc"].map(String::from).into();
        let set = KeywordSet::new(&words).expect("set");
        for data in ["", "a", "ab", "abc", "xabcab", "ABCABCABCb"] {
            let whole = set.hits_cut_from(data.as_bytes(), usize::MAX);
            assert_eq!(whole, set.hits_cut_from(data.as_bytes(), 0), "{data}");
            assert_eq!(whole, plain(&words, data.as_bytes()), "{data}");
        }
    }

    #[test]
    fn a_keyword_cut_in_two_at_every_piece_boundary_is_found() {
        let words: Vec<String> = vec!["aws_secret_access_key".into()];
        let set = KeywordSet::new(&words).expect("set");
        let length = 64 * 1024 + 3;
        let piece = length / STREAMS;
        for shift in 1..words[0].len() {
            let mut data = vec![b'.'; length];
            for cut in 1..STREAMS {
                let at = cut * piece - shift;
                data[at..at + words[0].len()].copy_from_slice(words[0].as_bytes());
            }
            let hits = set.hits(&data);
            assert_eq!(hits.len(), STREAMS - 1, "shift {shift}");
            assert_eq!(hits, plain(&words, &data));
        }
    }
}
