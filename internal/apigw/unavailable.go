package apigw

import "errors"

// TODO(store): replace with errors.Is(err, dynamo.ErrUnavailable) once
// internal/dynamo declares it. The store wraps infrastructure failures
// that survived its retries (throttling, conflicts, timeouts) in
// dynamo.ErrUnavailable; they are answered 503 with Retry-After.
var errUnavailablePlaceholder = errors.New("unavailable")

func isUnavailable(err error) bool { return errors.Is(err, errUnavailablePlaceholder) }
