package monitor

// Fetching the lists: one request, or page after page with a re-read when
// the list changed under us.

import (
	"context"
	"net/url"
	"strconv"
)

// mgmtListSpec says how to ask for a list and how to tell its items apart.
type mgmtListSpec[T any] struct {
	endpoint, columns, sort string
	key                     func(*T) string // "" (or a NUL first): the item is dropped
}

// mgmtFetchList reads a whole list, page by page. The pages are read one after
// the other while the broker's list may change: when its total changes
// between the first and the last page (or a page runs past the end), items
// may have been skipped, so the list is read again once; if it changes
// again the result is an mgmtErrChanged error and the list is not used.
// paged says the list came in more than one page (an item can then have
// been skipped at a page boundary even when the total did not change).
func mgmtFetchList[T any](ctx context.Context, a *mgmtAPI, l mgmtListSpec[T]) (_ []T, paged bool, _ *mgmtError) {
	for attempt := 1; ; attempt++ {
		items, pages, changed, err := mgmtFetchPages(ctx, a, l)
		if err != nil || !changed {
			return items, pages > 1, err
		}
		if attempt == 2 {
			return nil, true, &mgmtError{endpoint: l.endpoint, kind: mgmtErrChanged,
				msg: l.endpoint + " changed while amqptop paged through it (" + strconv.Itoa(len(items)) + " items)"}
		}
	}
}

func mgmtFetchPages[T any](ctx context.Context, a *mgmtAPI, l mgmtListSpec[T]) (all []T, pages int, changed bool, _ *mgmtError) {
	seen := map[string]struct{}{}
	total := -1
	for n := 1; ; n++ {
		q := url.Values{
			"columns":   {l.columns},
			"page":      {strconv.Itoa(n)},
			"page_size": {strconv.Itoa(a.pageSize)},
			"sort":      {l.sort},
		}
		body, err := a.get(ctx, l.endpoint, q, mgmtListLimit)
		if err != nil {
			if err.kind == mgmtErrPageRange {
				return all, n, true, nil // the list shrank under us
			}
			return nil, n, false, err
		}
		pg, err := mgmtDecodeList[T](l.endpoint, body)
		if err != nil {
			return nil, n, false, err
		}
		if !pg.paged {
			return mgmtDedupe(pg.items, l.key, seen), 1, false, nil
		}
		if total < 0 {
			total = pg.total
		} else if pg.total != total {
			changed = true
		}
		all = append(all, mgmtDedupe(pg.items, l.key, seen)...)
		if n >= pg.pageCount || len(pg.items) == 0 {
			return all, n, changed, nil
		}
		if n >= mgmtMaxPages {
			return nil, n, false, &mgmtError{endpoint: l.endpoint, kind: mgmtErrJSON,
				msg: "unexpected reply from " + l.endpoint + ": more than " + strconv.Itoa(mgmtMaxPages) + " pages"}
		}
	}
}

// mgmtDedupe drops items already seen (a list that grew while being paged
// repeats some) and items without a key.
func mgmtDedupe[T any](items []T, key func(*T) string, seen map[string]struct{}) []T {
	out := items[:0]
	for i := range items {
		k := key(&items[i])
		if k == "" || k[0] == 0 {
			continue
		}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, items[i])
	}
	return out
}
