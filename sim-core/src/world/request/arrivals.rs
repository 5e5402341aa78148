//! When each client sends its next request: one pending arrival per client,
//! kept in a hierarchical timing wheel over integer nanoseconds (Varghese &
//! Lauck, "Hashed and hierarchical timing wheels", SOSP 1987), off the
//! general event queue.
//!
//! # Order
//!
//! Arrivals come out in increasing `(time, client)` order: two clients due
//! at the same nanosecond send in client-index order. (How an arrival
//! orders against a general event at the same instant is the run loop's
//! rule, written in `world`'s `run_until`.)
//!
//! # How
//!
//! Eight levels of 256 slots, one per byte of the 64-bit time. An arrival
//! due at `t` waits at the level of the highest byte in which `t` differs
//! from the wheel's clock `now`, in the slot that byte names; at level 0
//! every client of a slot is due at exactly the same nanosecond. A slot is a
//! singly linked list threaded through a per-client `link` array, so the
//! wheel holds no per-slot allocation: per client 12 bytes (due time and
//! link), per wheel 8 KB of list heads and a 256-bit occupancy map per level.
//!
//! The next arrival is the first occupied level-0 slot at or after the
//! clock's low byte; with none, the lowest occupied slot of the lowest
//! occupied level is emptied into the levels below: the clock moves to the
//! earliest arrival of that slot (which goes straight to level 0), the
//! others fall to the level of their first difference from it. An arrival
//! falls at most once per level in its life, most once or twice. Each step
//! is a few bit operations on the occupancy maps.
//! Nothing is ever due before the clock: a client's next arrival is at least
//! 1 ns after its current one (`Client::next_gap`).

/// No client (end of a slot's list).
const NIL: u32 = u32::MAX;
const LEVELS: usize = 8;
const SLOTS: usize = 256;

/// The clients' pending arrivals.
pub(in crate::world) struct Arrivals {
    /// Per client: when it next sends (`u64::MAX`: never again).
    due: Vec<u64>,
    /// Per client: the next client in its slot's list.
    link: Vec<u32>,
    /// Per level and slot: the first client of the list.
    heads: Box<[[u32; SLOTS]; LEVELS]>,
    /// Per level: which slots are non-empty.
    occupied: [[u64; SLOTS / 64]; LEVELS],
    /// Bit `l` set iff level `l` has a non-empty slot.
    levels: u32,
    /// The wheel's clock: no arrival is due before it.
    now: u64,
    /// The next arrival, once found (its slot is at level 0).
    next: Option<(u64, u32)>,
    len: usize,
}

impl Arrivals {
    /// An empty wheel for `clients` clients (indices `0..clients`).
    pub(in crate::world) fn new(clients: usize) -> Arrivals {
        Arrivals {
            due: vec![u64::MAX; clients],
            link: vec![NIL; clients],
            heads: Box::new([[NIL; SLOTS]; LEVELS]),
            occupied: [[0; SLOTS / 64]; LEVELS],
            levels: 0,
            now: 0,
            next: None,
            len: 0,
        }
    }

    /// Clients waiting to send.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    /// Client `c` (which has no pending arrival) sends next at `at`: not
    /// before the last arrival taken, nor before the next one [`peek`]ed
    /// (the run only schedules a client's next arrival when it takes its
    /// current one, and at least 1 ns later).
    ///
    /// [`peek`]: Arrivals::peek
    #[inline]
    pub(in crate::world) fn schedule(&mut self, c: u32, at: u64) {
        assert!(
            at >= self.now,
            "arrival scheduled in the past: {at} < {}",
            self.now
        );
        self.len += 1;
        self.due[c as usize] = at;
        if let Some((t, d)) = self.next
            && (at, c) < (t, d)
        {
            self.next = None;
        }
        self.put(c, at);
    }

    #[inline(always)]
    fn put(&mut self, c: u32, at: u64) {
        let diff = at ^ self.now;
        let level = if diff == 0 {
            0
        } else {
            (63 - diff.leading_zeros()) as usize / 8
        };
        let slot = ((at >> (8 * level)) & 0xFF) as usize;
        self.link[c as usize] = self.heads[level][slot];
        self.heads[level][slot] = c;
        self.occupied[level][slot / 64] |= 1 << (slot % 64);
        self.levels |= 1 << level;
    }

    /// When the next arrival is due (`None`: no client will send).
    #[inline]
    pub(in crate::world) fn peek(&mut self) -> Option<u64> {
        if self.next.is_none() {
            self.next = self.find();
        }
        self.next.map(|(t, _)| t)
    }

    /// Take the next arrival: its time and client.
    #[inline]
    pub(in crate::world) fn pop(&mut self) -> Option<(u64, u32)> {
        self.peek()?;
        let (t, c) = self.next.take().expect("peeked");
        let slot = (t & 0xFF) as usize;
        // Unlink `c` from its level-0 slot.
        let head = &mut self.heads[0][slot];
        if *head == c {
            *head = self.link[c as usize];
        } else {
            let mut p = *head;
            while self.link[p as usize] != c {
                p = self.link[p as usize];
            }
            self.link[p as usize] = self.link[c as usize];
        }
        if self.heads[0][slot] == NIL {
            self.clear(0, slot);
        }
        self.due[c as usize] = u64::MAX;
        self.len -= 1;
        Some((t, c))
    }

    /// The earliest `(time, client)`, cascading higher levels down until
    /// it sits at level 0.
    fn find(&mut self) -> Option<(u64, u32)> {
        loop {
            let from = (self.now & 0xFF) as usize;
            if let Some(slot) = first_at_or_after(&self.occupied[0], from) {
                self.now = (self.now & !0xFF) | slot as u64;
                // Every client here is due now: the lowest index goes first.
                let mut c = self.heads[0][slot];
                let mut best = c;
                while c != NIL {
                    best = best.min(c);
                    c = self.link[c as usize];
                }
                return Some((self.now, best));
            }
            // The lowest occupied level above 0 holds the earliest arrival,
            // in its lowest occupied slot.
            let level = (self.levels & !1).trailing_zeros() as usize;
            if level >= LEVELS {
                return None;
            }
            let slot = first_at_or_after(&self.occupied[level], 0).expect("level is occupied");
            self.clear(level, slot);
            // Move the clock to the slot's earliest instant (its digits above
            // this level are the clock's, so every other arrival stays where
            // it is) and its clients down, the earliest straight to level 0.
            let mut c = std::mem::replace(&mut self.heads[level][slot], NIL);
            let mut earliest = u64::MAX;
            let mut k = c;
            while k != NIL {
                earliest = earliest.min(self.due[k as usize]);
                k = self.link[k as usize];
            }
            self.now = earliest;
            while c != NIL {
                let next = self.link[c as usize];
                self.put(c, self.due[c as usize]);
                c = next;
            }
        }
    }

    /// Slot `slot` of `level` became empty.
    #[inline(always)]
    fn clear(&mut self, level: usize, slot: usize) {
        let words = &mut self.occupied[level];
        words[slot / 64] &= !(1 << (slot % 64));
        if words.iter().all(|&w| w == 0) {
            self.levels &= !(1 << level);
        }
    }
}

/// The first set bit of the 256-bit map `words` at index `from` or later.
#[inline(always)]
fn first_at_or_after(words: &[u64; SLOTS / 64], from: usize) -> Option<usize> {
    let mut w = from / 64;
    let mut bits = words[w] & (u64::MAX << (from % 64));
    loop {
        if bits != 0 {
            return Some(w * 64 + bits.trailing_zeros() as usize);
        }
        w += 1;
        if w == SLOTS / 64 {
            return None;
        }
        bits = words[w];
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::rng::splitmix64;

    #[test]
    fn same_instant_arrivals_come_out_in_client_order() {
        let mut a = Arrivals::new(5);
        for c in [3, 1, 4, 0] {
            a.schedule(c, 7);
        }
        a.schedule(2, 6);
        let order: Vec<(u64, u32)> = std::iter::from_fn(|| a.pop()).collect();
        assert_eq!(order, [(6, 2), (7, 0), (7, 1), (7, 3), (7, 4)]);
        assert_eq!(a.peek(), None);
    }

    /// Every popped client is rescheduled a random gap later (as clients
    /// are): the wheel agrees with a sorted set at every step, for gaps from
    /// 1 ns (many ties) to 2^50 ns (every level of the wheel).
    #[test]
    fn the_wheel_pops_in_exact_time_client_order() {
        for (clients, spread) in [(7u32, 3u64), (200, 1 << 26), (1000, 1 << 50), (50, 1 << 12)] {
            let mut rng = spread ^ clients as u64;
            let mut a = Arrivals::new(clients as usize);
            let mut reference = BTreeSet::new();
            for c in 0..clients {
                let t = splitmix64(&mut rng) % spread;
                a.schedule(c, t);
                reference.insert((t, c));
            }
            for _ in 0..50_000 {
                let want = reference.pop_first();
                assert_eq!(a.peek(), want.map(|w| w.0));
                let got = a.pop();
                assert_eq!(got, want, "clients {clients}, spread {spread}");
                let (t, c) = got.unwrap();
                // Occasionally a client stops sending.
                let r = splitmix64(&mut rng);
                if !r.is_multiple_of(97) {
                    let at = t + 1 + (r >> 8) % spread;
                    a.schedule(c, at);
                    reference.insert((at, c));
                }
                assert_eq!(a.len(), reference.len());
                if reference.is_empty() {
                    break;
                }
            }
        }
    }

    #[test]
    fn a_lower_client_due_with_the_one_found_comes_first() {
        let mut a = Arrivals::new(3);
        a.schedule(2, 1_000_000);
        assert_eq!(a.peek(), Some(1_000_000));
        a.schedule(1, 1_000_000);
        a.schedule(0, 2_000_000);
        assert_eq!(a.pop(), Some((1_000_000, 1)));
        assert_eq!(a.pop(), Some((1_000_000, 2)));
        assert_eq!(a.pop(), Some((2_000_000, 0)));
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_before_the_last_arrival_is_a_bug() {
        let mut a = Arrivals::new(2);
        a.schedule(0, 10);
        a.pop();
        a.schedule(1, 9);
    }
}
