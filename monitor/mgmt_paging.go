package monitor

// Fetching the lists: one request, or page after page with a re-read when
// the list changed under us.

import (
	"context"
	"net/url"
	"strconv"
)

// listChanged counts the polls in a row in which a list kept changing
// while it was paged through; it is reported after a few.
func (r *mgmtPoll) listChanged(p *Poller, endpoint string, changed bool) {
	if !changed {
		delete(p.changed, endpoint)
		return
	}
	p.changed[endpoint]++
	if p.changed[endpoint] >= mgmtChangedReport {
		r.changed = append(r.changed, endpoint)
	}
}

// mgmtFetchList reads a whole list, page by page. The pages are read one after
// the other while the broker's list may change: when its total changes
// between the first and the last page (or a page runs past the end), items
// may have been skipped, so the list is read again once; if it changes
// again the result is an mgmtErrChanged error and the list is not used.
func mgmtFetchList[T any](ctx context.Context, p *Poller, endpoint, columns, sortBy string, key func(*T) string) ([]T, *mgmtError) {
	for attempt := 1; ; attempt++ {
		items, changed, err := mgmtFetchPages(ctx, p, endpoint, columns, sortBy, key)
		if err != nil || !changed {
			return items, err
		}
		if attempt == 2 {
			return nil, &mgmtError{endpoint: endpoint, kind: mgmtErrChanged,
				msg: endpoint + " changed while amqptop paged through it (" + strconv.Itoa(len(items)) + " items)"}
		}
	}
}

type mgmtPage[T any] struct {
	TotalCount int  `json:"total_count"`
	Page       int  `json:"page"`
	PageCount  int  `json:"page_count"`
	Items      *[]T `json:"items"`
}

func mgmtFetchPages[T any](ctx context.Context, p *Poller, endpoint, columns, sortBy string, key func(*T) string) (all []T, changed bool, _ *mgmtError) {
	seen := map[string]struct{}{}
	total := -1
	for n := 1; ; n++ {
		q := url.Values{
			"columns":   {columns},
			"page":      {strconv.Itoa(n)},
			"page_size": {strconv.Itoa(p.cfg.PageSize)},
			"sort":      {sortBy},
		}
		body, err := p.get(ctx, endpoint, q, mgmtListLimit)
		if err != nil {
			if err.kind == mgmtErrPageRange {
				return all, true, nil // the list shrank under us
			}
			return nil, false, err
		}
		if t := mgmtFirstByte(body); t == '[' {
			// A broker without paging sends the whole list.
			var items []T
			if err := mgmtDecode(endpoint, body, &items, ""); err != nil {
				return nil, false, err
			}
			return mgmtDedupe(items, key, seen), false, nil
		}
		var pg mgmtPage[T]
		if err := mgmtDecode(endpoint, body, &pg, "items."); err != nil {
			return nil, false, err
		}
		if pg.Items == nil {
			return nil, false, &mgmtError{endpoint: endpoint, kind: mgmtErrJSON,
				msg:  "unexpected reply from " + endpoint + ": a page without items",
				hint: "the URL does not seem to point at a RabbitMQ management API"}
		}
		if total < 0 {
			total = pg.TotalCount
		} else if pg.TotalCount != total {
			changed = true
		}
		all = append(all, mgmtDedupe(*pg.Items, key, seen)...)
		if n >= pg.PageCount || len(*pg.Items) == 0 {
			break
		}
		if n >= mgmtMaxPages {
			return nil, false, &mgmtError{endpoint: endpoint, kind: mgmtErrJSON,
				msg: "unexpected reply from " + endpoint + ": more than " + strconv.Itoa(mgmtMaxPages) + " pages"}
		}
	}
	return all, changed, nil
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

func mgmtFirstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}
