package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
	rabbithole "github.com/michaelklishin/rabbit-hole/v2"
)

// The decode step: the JSON shapes of the replies (only the fields used),
// how a reply is decoded into them, and their mapping to the model.

type mgmtRate struct {
	Rate float64 `json:"rate"`
}

type mgmtOverview struct {
	ClusterName       string                  `json:"cluster_name"`
	RabbitVersion     string                  `json:"rabbitmq_version"`
	ErlangVersion     string                  `json:"erlang_version"`
	ManagementVersion string                  `json:"management_version"`
	Node              string                  `json:"node"`
	DisableStats      bool                    `json:"disable_stats"`
	ObjectTotals      rabbithole.ObjectTotals `json:"object_totals"`
	MessageStats      struct {
		PublishDetails    mgmtRate `json:"publish_details"`
		DeliverGetDetails mgmtRate `json:"deliver_get_details"`
	} `json:"message_stats"`
}

func (o *mgmtOverview) model() model.Overview {
	return model.Overview{
		ClusterName:       o.ClusterName,
		RabbitVersion:     o.RabbitVersion,
		ErlangVersion:     o.ErlangVersion,
		ManagementVersion: o.ManagementVersion,
		Node:              o.Node,
		Connections:       o.ObjectTotals.Connections,
		Channels:          o.ObjectTotals.Channels,
		Queues:            o.ObjectTotals.Queues,
		Consumers:         o.ObjectTotals.Consumers,
		PublishRate:       o.MessageStats.PublishDetails.Rate,
		DeliverRate:       o.MessageStats.DeliverGetDetails.Rate,
	}
}

type mgmtNode struct {
	Name          string   `json:"name"`
	Running       bool     `json:"running"`
	MemUsed       *uint64  `json:"mem_used"`
	MemLimit      uint64   `json:"mem_limit"`
	MemAlarm      *bool    `json:"mem_alarm"`
	DiskFree      *uint64  `json:"disk_free"`
	DiskFreeLimit uint64   `json:"disk_free_limit"`
	DiskAlarm     *bool    `json:"disk_free_alarm"`
	FDUsed        *int     `json:"fd_used"`
	FDTotal       int      `json:"fd_total"`
	Uptime        *int64   `json:"uptime"`
	Partitions    []string `json:"partitions"`
}

// mgmtNodeStatColumns are the node columns whose absence (on running nodes)
// means the broker does not report them.
var mgmtNodeStatColumns = []string{"mem_used", "mem_alarm", "disk_free", "disk_free_alarm", "fd_used", "uptime"}

func (n *mgmtNode) present(seen map[string]int) {
	mgmtMark(seen, "mem_used", n.MemUsed != nil)
	mgmtMark(seen, "mem_alarm", n.MemAlarm != nil)
	mgmtMark(seen, "disk_free", n.DiskFree != nil)
	mgmtMark(seen, "disk_free_alarm", n.DiskAlarm != nil)
	mgmtMark(seen, "fd_used", n.FDUsed != nil)
	mgmtMark(seen, "uptime", n.Uptime != nil)
}

func mgmtMark(seen map[string]int, col string, ok bool) {
	if ok {
		seen[col]++
	}
}

func (n *mgmtNode) model() model.Node {
	m := model.Node{
		Name:          n.Name,
		Running:       n.Running,
		MemUsed:       mgmtDeref(n.MemUsed),
		MemLimit:      n.MemLimit,
		MemAlarm:      mgmtDeref(n.MemAlarm),
		DiskFree:      mgmtDeref(n.DiskFree),
		DiskFreeLimit: n.DiskFreeLimit,
		DiskAlarm:     mgmtDeref(n.DiskAlarm),
		FDUsed:        mgmtDeref(n.FDUsed),
		FDTotal:       n.FDTotal,
		Uptime:        time.Duration(mgmtDeref(n.Uptime)) * time.Millisecond,
	}
	if len(n.Partitions) > 0 {
		m.Partitions = n.Partitions
	}
	return m
}

func mgmtDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

type mgmtClientProps struct {
	ConnectionName string          `json:"connection_name"`
	Product        string          `json:"product"`
	Version        string          `json:"version"`
	Platform       string          `json:"platform"`
	Capabilities   map[string]bool `json:"capabilities"`
}

type mgmtConn struct {
	Name             string           `json:"name"`
	UserProvidedName string           `json:"user_provided_name"`
	ClientProperties *mgmtClientProps `json:"client_properties"`
	User             string           `json:"user"`
	Vhost            string           `json:"vhost"`
	PeerHost         string           `json:"peer_host"`
	PeerPort         int              `json:"peer_port"`
	Node             string           `json:"node"`
	Protocol         string           `json:"protocol"`
	State            string           `json:"state"`
	Timeout          *int             `json:"timeout"`
	ChannelMax       int              `json:"channel_max"`
	FrameMax         int              `json:"frame_max"`
	ConnectedAt      int64            `json:"connected_at"`
	RecvOct          *uint64          `json:"recv_oct"`
	SendOct          *uint64          `json:"send_oct"`
	RecvOctDetails   *mgmtRate        `json:"recv_oct_details"`
	SendOctDetails   *mgmtRate        `json:"send_oct_details"`
	Channels         *int             `json:"channels"`
	SSL              bool             `json:"ssl"`
	SSLProtocol      string           `json:"ssl_protocol"`
}

// mgmtConnStatColumns are the connection columns whose absence from every
// listed connection means the broker does not report them.
var mgmtConnStatColumns = []string{
	"state", "channels", "timeout", "client_properties", "peer_host", "protocol", "connected_at",
	"recv_oct", "send_oct", "recv_oct_details.rate", "send_oct_details.rate",
}

func (c *mgmtConn) present(seen map[string]int) {
	mgmtMark(seen, "state", c.State != "")
	mgmtMark(seen, "channels", c.Channels != nil)
	mgmtMark(seen, "timeout", c.Timeout != nil)
	mgmtMark(seen, "client_properties", c.ClientProperties != nil)
	mgmtMark(seen, "peer_host", c.PeerHost != "")
	mgmtMark(seen, "protocol", c.Protocol != "")
	mgmtMark(seen, "connected_at", c.ConnectedAt != 0)
	mgmtMark(seen, "recv_oct", c.RecvOct != nil)
	mgmtMark(seen, "send_oct", c.SendOct != nil)
	mgmtMark(seen, "recv_oct_details.rate", c.RecvOctDetails != nil)
	mgmtMark(seen, "send_oct_details.rate", c.SendOctDetails != nil)
}

func (c *mgmtConn) model() model.Connection {
	m := model.Connection{
		Name:        c.Name,
		Client:      c.UserProvidedName,
		User:        c.User,
		Vhost:       c.Vhost,
		Node:        c.Node,
		Protocol:    c.Protocol,
		State:       model.ParseConnState(c.State),
		Heartbeat:   time.Duration(mgmtDeref(c.Timeout)) * time.Second,
		ChannelMax:  c.ChannelMax,
		FrameMax:    c.FrameMax,
		RecvBytes:   mgmtDeref(c.RecvOct),
		SendBytes:   mgmtDeref(c.SendOct),
		Channels:    mgmtDeref(c.Channels),
		TLS:         c.SSL,
		TLSProtocol: c.SSLProtocol,
	}
	if c.RecvOctDetails != nil {
		m.RecvRate = c.RecvOctDetails.Rate
	}
	if c.SendOctDetails != nil {
		m.SendRate = c.SendOctDetails.Rate
	}
	if c.ConnectedAt > 0 {
		m.ConnectedAt = time.UnixMilli(c.ConnectedAt)
	}
	if c.PeerHost != "" {
		if c.PeerPort > 0 {
			m.Peer = net.JoinHostPort(c.PeerHost, strconv.Itoa(c.PeerPort))
		} else {
			m.Peer = c.PeerHost
		}
	}
	if cp := c.ClientProperties; cp != nil {
		if m.Client == "" {
			m.Client = cp.ConnectionName
		}
		m.Product, m.Version, m.Platform = cp.Product, cp.Version, cp.Platform
		for k, on := range cp.Capabilities {
			if on {
				m.Capabilities = append(m.Capabilities, k)
			}
		}
		sort.Strings(m.Capabilities)
	}
	if c.State == "" {
		m.StatsMissing = true
	}
	return m
}

type mgmtChan struct {
	ConnectionDetails struct {
		Name string `json:"name"`
	} `json:"connection_details"`
	Number                 int    `json:"number"`
	Node                   string `json:"node"`
	User                   string `json:"user"`
	Vhost                  string `json:"vhost"`
	State                  string `json:"state"`
	PrefetchCount          int    `json:"prefetch_count"`
	GlobalPrefetchCount    int    `json:"global_prefetch_count"`
	MessagesUnacknowledged int    `json:"messages_unacknowledged"`
	MessagesUnconfirmed    int    `json:"messages_unconfirmed"`
	ConsumerCount          int    `json:"consumer_count"`
	Confirm                bool   `json:"confirm"`
	Transactional          bool   `json:"transactional"`
	MessageStats           struct {
		PublishDetails    mgmtRate `json:"publish_details"`
		DeliverGetDetails mgmtRate `json:"deliver_get_details"`
		AckDetails        mgmtRate `json:"ack_details"`
	} `json:"message_stats"`
}

func (c *mgmtChan) model() model.Channel {
	return model.Channel{
		Conn:           c.ConnectionDetails.Name,
		Number:         c.Number,
		Node:           c.Node,
		User:           c.User,
		Vhost:          c.Vhost,
		State:          c.State,
		Prefetch:       c.PrefetchCount,
		GlobalPrefetch: c.GlobalPrefetchCount,
		Unacked:        c.MessagesUnacknowledged,
		Unconfirmed:    c.MessagesUnconfirmed,
		Consumers:      c.ConsumerCount,
		Confirm:        c.Confirm,
		Transactional:  c.Transactional,
		PublishRate:    c.MessageStats.PublishDetails.Rate,
		DeliverRate:    c.MessageStats.DeliverGetDetails.Rate,
		AckRate:        c.MessageStats.AckDetails.Rate,
	}
}

// ---- Decoding ----

// mgmtIdentified is an item of a list that must say who it is: a field of
// an unexpected type elsewhere in it is tolerated (left empty), but an item
// without its identity cannot be diffed — it would make the object it
// stands for look gone (a connection named 12345 made every connection
// look closed) — so the whole reply is refused.
type mgmtIdentified interface {
	identity() (what string, ok bool)
}

func (n mgmtNode) identity() (string, bool) { return "a node", n.Name != "" }
func (c mgmtConn) identity() (string, bool) { return "a connection", c.Name != "" }
func (c mgmtChan) identity() (string, bool) {
	return "a channel", c.ConnectionDetails.Name != "" && c.Number > 0
}

// mgmtCheckItems refuses a list with an item that has no identity.
func mgmtCheckItems[T any](endpoint string, items []T) *mgmtError {
	for i, it := range items {
		id, ok := any(it).(mgmtIdentified)
		if !ok {
			return nil
		}
		if what, ok := id.identity(); !ok {
			return &mgmtError{endpoint: endpoint, kind: mgmtErrJSON,
				msg:  fmt.Sprintf("unexpected JSON from %s: item %d is %s without its name (a field of another type?); the list is not used", endpoint, i, what),
				hint: mgmtNotAPIHint, cond: condMgmtNotRabbitMQ}
		}
	}
	return nil
}

// mgmtDecode decodes a reply. A field of an unexpected type (inside an
// item when tolerate is the items' path prefix, "items.") is left empty
// instead of failing the whole reply; a reply of the wrong shape or that
// does not parse is an error naming the endpoint.
func mgmtDecode(endpoint string, body []byte, v any, tolerate string) *mgmtError {
	_, err := mgmtDecodeTolerant(endpoint, body, v, tolerate)
	return err
}

// mgmtDecodeTolerant is mgmtDecode that also says whether it tolerated a
// type error (encoding/json then reports no later one).
func mgmtDecodeTolerant(endpoint string, body []byte, v any, tolerate string) (tolerated bool, _ *mgmtError) {
	if mgmtFirstByte(body) == 'n' && json.Valid(body) {
		// json.Unmarshal takes null as "leave v as it is": a reply of
		// null would read as an empty overview or node list.
		return false, &mgmtError{endpoint: endpoint, kind: mgmtErrJSON,
			msg:  "unexpected reply from " + endpoint + ": null",
			hint: mgmtNotAPIHint, cond: condMgmtNotRabbitMQ}
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return false, nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" && strings.HasPrefix(te.Field, tolerate) {
			return true, nil
		}
		return false, &mgmtError{endpoint: endpoint, kind: mgmtErrJSON,
			msg:  "unexpected JSON from " + endpoint + ": " + mgmtJSONKind(te.Value) + " where " + mgmtGoKind(te.Type) + " was expected" + mgmtAtField(te.Field),
			hint: mgmtNotAPIHint, cond: condMgmtNotRabbitMQ}
	}
	e := &mgmtError{endpoint: endpoint, kind: mgmtErrJSON, msg: "invalid JSON from " + endpoint + ": " + err.Error()}
	if mgmtFirstByte(body) == '<' {
		e.advise(condMgmtNotRabbitMQ, "the reply is HTML: the URL does not seem to point at the RabbitMQ management API")
	} else {
		e.advise(condMgmtGarbledReply, "the reply was cut short or garbled (a proxy, or the broker under memory pressure)")
	}
	return false, e
}

func mgmtAtField(f string) string {
	if f == "" {
		return ""
	}
	return " (at " + f + ")"
}

func mgmtJSONKind(v string) string {
	switch v {
	case "array":
		return "an array"
	case "object":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return "a " + v
}

func mgmtGoKind(t reflect.Type) string {
	if t == nil {
		return "something else"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return mgmtGoKind(t.Elem())
	}
	return "a number"
}

// mgmtPage is a page of a list, as the API sends it when asked for one.
type mgmtPage[T any] struct {
	TotalCount int  `json:"total_count"`
	Page       int  `json:"page"`
	PageCount  int  `json:"page_count"`
	Items      *[]T `json:"items"`
}

// mgmtListReply is one reply of a list endpoint, decoded.
type mgmtListReply[T any] struct {
	items     []T
	paged     bool // a page; else the whole list (a broker that ignores paging)
	total     int  // of a page: the length of the whole list
	pageCount int  // of a page: how many pages the list has
}

// mgmtDecodeList decodes a reply of a list endpoint: a page, or the whole
// list as an array. A field of an unexpected type inside an item is left
// empty.
func mgmtDecodeList[T any](endpoint string, body []byte) (mgmtListReply[T], *mgmtError) {
	if mgmtFirstByte(body) == '[' {
		var items []T
		if err := mgmtDecode(endpoint, body, &items, ""); err != nil {
			return mgmtListReply[T]{}, err
		}
		if err := mgmtCheckItems(endpoint, items); err != nil {
			return mgmtListReply[T]{}, err
		}
		return mgmtListReply[T]{items: items}, nil
	}
	var pg mgmtPage[T]
	tolerated, err := mgmtDecodeTolerant(endpoint, body, &pg, "items.")
	if err != nil {
		return mgmtListReply[T]{}, err
	}
	// encoding/json reports only the first type error: when it was a
	// tolerated one inside an item, a page count that is not a number
	// would be lost behind it. The page's own fields are then read again
	// alone (only then: it costs a second pass over the body).
	var frame struct {
		TotalCount *int            `json:"total_count"`
		Page       *int            `json:"page"`
		PageCount  *int            `json:"page_count"`
		Items      json.RawMessage `json:"items"`
	}
	if tolerated {
		if err := mgmtDecode(endpoint, body, &frame, "\x00"); err != nil {
			return mgmtListReply[T]{}, err
		}
	}
	if pg.Items == nil {
		return mgmtListReply[T]{}, &mgmtError{endpoint: endpoint, kind: mgmtErrJSON,
			msg:  "unexpected reply from " + endpoint + ": a page without items",
			hint: mgmtNotAPIHint, cond: condMgmtNotRabbitMQ}
	}
	if err := mgmtCheckItems(endpoint, *pg.Items); err != nil {
		return mgmtListReply[T]{}, err
	}
	return mgmtListReply[T]{items: *pg.Items, paged: true, total: pg.TotalCount, pageCount: pg.PageCount}, nil
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
