// Package causes is amqptop's root-cause knowledge base: one entry per
// cause (what happened, why, what to do, what does not help, the docs),
// with the matchers that recognise it in a close — the reply code, the
// reply text, the broker's log, a client library's error, and context.
//
// The entries are data: causes.yaml, embedded, in the same format a user's
// --rules file uses to add or override entries. Matching scores every rule
// of every entry against all the evidence and takes the best; the broker's
// own words outrank a client's, a text outranks a bare code, and nothing
// matched gives an honest "not recognised" with the generic meaning of the
// code, never a guess.
package causes
