package domain

// OnceKey names something that must happen at most once (an alert for one
// crossing, the announcement of one transfer's outcome). It is a list of
// parts, never a joined string: ids may contain any separator a join would
// use, and ("x:y", "z") must not name the same thing as ("x", "y:z"). The
// store builds its key from the parts unambiguously.
type OnceKey []string

// NewOnceKey makes a key from its parts, the first naming the kind of
// thing.
func NewOnceKey(parts ...string) OnceKey { return OnceKey(parts) }
