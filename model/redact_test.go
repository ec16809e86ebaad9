package model

import "testing"

func TestRedactCredentials(t *testing.T) {
	cases := []struct{ in, want string }{
		{"dial amqp://bob:s3cret@mq:5672/ failed", "dial amqp://bob:xxxxx@mq:5672/ failed"},
		{"amqps://monitor:p%40ss@mq-1.prod:5671/%2F", "amqps://monitor:xxxxx@mq-1.prod:5671/%2F"},
		{"GET https://admin:hunter2@mq:15671/api/overview: 401", "GET https://admin:xxxxx@mq:15671/api/overview: 401"},
		{"connecting with password=hunter2 user=bob", "connecting with password=xxxxx user=bob"},
		{`{"user": "bob", "password": "hunter2"}`, `{"user": "bob", "password": "xxxxx"}`},
		{"Authorization: Basic Ym9iOnMzY3JldA==", "Authorization: Basic xxxxx"},
		{"amqp://guest@localhost:5672/ has no password", "amqp://guest@localhost:5672/ has no password"},
		{"closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app')", "closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app')"},
		{`Exception (403) Reason: "username or password not allowed"`, `Exception (403) Reason: "username or password not allowed"`},
	}
	for _, c := range cases {
		if got := RedactCredentials(c.in); got != c.want {
			t.Errorf("RedactCredentials(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
