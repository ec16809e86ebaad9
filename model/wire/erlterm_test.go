package wire

import (
	"reflect"
	"testing"
)

func TestErlangTerms(t *testing.T) {
	if s, ok := DecodeCharlist([]any{int64(117), int64(115), int64(101), int64(114)}); !ok || s != "user" {
		t.Errorf("charlist = %q %v", s, ok)
	}
	if _, ok := DecodeCharlist([]any{"x"}); ok {
		t.Error("a list of strings is no charlist")
	}
	for in, want := range map[string]string{"{127,0,0,1}": "127.0.0.1", "{0,0,0,0,0,0,0,1}": "0:0:0:0:0:0:0:1", "{0,0,0,0,0,65535,2570,1}": "10.10.0.1", "db.local": "db.local"} {
		if got := ErlIP(in); got != want {
			t.Errorf("ErlIP(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"<rabbit@mq-1.1700000000.1234.0>": "<0.1234.0>", "<rabbit@a.b.c.1700000000.99.7>": "<0.99.7>", "<0.5.0>": "<0.5.0>"} {
		if got := NormPID(in); got != want {
			t.Errorf("NormPID(%q) = %q, want %q", in, got, want)
		}
	}
	props := ParseClientProps([]any{
		`{<<"capabilities">>,table,[{<<"publisher_confirms">>,bool,true},{<<"basic.nack">>,bool,true},{<<"exchange_exchange_bindings">>,bool,false}]}`,
		`{<<"product">>,longstr,<<"RabbitMQ">>}`, `{<<"version">>,longstr,<<"5.21.0">>}`,
		`{<<"connection_name">>,longstr,<<"billing-api">>}`, `{<<"platform">>,longstr,<<"Java">>}`,
	})
	want := ClientProps{ConnectionName: "billing-api", Product: "RabbitMQ", Version: "5.21.0", Platform: "Java", Capabilities: []string{"basic.nack", "publisher_confirms"}}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("client props = %+v", props)
	}
	table := ParseClientProps(map[string]any{"connection_name": "x", "product": "amqplib", "capabilities": map[string]any{"a": true, "b": false}})
	if table.ConnectionName != "x" || table.Product != "amqplib" || !reflect.DeepEqual(table.Capabilities, []string{"a"}) {
		t.Errorf("table props = %+v", table)
	}
	if n, p, c := SplitConnName("[::1]:5555 -> [::1]:5672 - my app - v2"); n != "[::1]:5555 -> [::1]:5672" || p != "[::1]:5555" || c != "my app - v2" {
		t.Errorf("SplitConnName = %q %q %q", n, p, c)
	}
}
