package monitor

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Conditions lists every cond* constant once, each a kebab-case id the
// package comment documents.
func TestConditions(t *testing.T) {
	ids := Conditions()
	if len(ids) == 0 {
		t.Fatal("no conditions")
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "condition.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "cond") {
					continue
				}
				v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, v)
			}
		}
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !kebab.MatchString(id) {
			t.Errorf("condition %q is not kebab-case", id)
		}
		if seen[id] {
			t.Errorf("condition %q listed twice", id)
		}
		seen[id] = true
		if !regexp.MustCompile(`(?m)^//   - (.*, )?` + regexp.QuoteMeta(id) + `[:,]`).Match(doc) {
			t.Errorf("condition %q is not documented in doc.go", id)
		}
	}
	for _, id := range declared {
		if !seen[id] {
			t.Errorf("condition %q is declared but not in Conditions()", id)
		}
	}
	if len(declared) != len(ids) {
		t.Errorf("%d conditions declared, %d listed", len(declared), len(ids))
	}
	ids[0] = "mutated"
	if Conditions()[0] == "mutated" {
		t.Error("Conditions returns the package's own slice")
	}
}

// No text of the package names a flag or an environment variable: the
// command line knows those, and turns conditions into advice naming them.
func TestNoFlagNames(t *testing.T) {
	flagLike := regexp.MustCompile(`(^|[\s("'])--[a-z]|AMQPTOP_`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && flagLike.MatchString(s) {
				t.Errorf("%s: %q names a flag or an environment variable", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
}

func TestAMQPAdvice(t *testing.T) {
	u, _ := url.Parse("amqps://bob:pw@mq.example:5671/prod")
	tg := &Target{AMQP: u, User: "bob", Password: "pw", Vhost: "prod"}
	for _, c := range []struct{ msg, cond, hint string }{
		{`Exception (403) Reason: "username or password not allowed"`, condCredentialsRefused, "rabbitmqctl authenticate_user"},
		{`Exception (530) Reason: "NOT_ALLOWED - access to vhost 'prod' refused for user 'bob'"`, condVhostRefused, `set_permissions -p "prod" bob`},
		{"dial tcp 127.0.0.1:5671: connect: connection refused", condConnectionRefused, "listening on mq.example:5671"},
		{"dial tcp: lookup mq.example: no such host", condDNSFailed, "does not resolve"},
		{"tls: failed to verify certificate: x509: certificate signed by unknown authority", condTLSUnknownAuthority, "CA"},
		{"tls: failed to verify certificate: x509: certificate is valid for localhost, not wrong.example", condTLSNameMismatch, "does not name the host"},
		{`Exception (501) Reason: "remote error: tls: certificate required"`, condTLSClientCertRequired, "client certificate"},
		{"tls: first record does not look like a TLS handshake", condTLSOnPlainPort, "plain AMQP"},
		{"remote error: tls: protocol version not supported", condTLSFailed, "certificate"},
		{"Exception (501) Reason: \"EOF\"", "", ""},
	} {
		a := amqpAdvice(c.msg, tg)
		if a.cond != c.cond || !strings.Contains(a.hint, c.hint) || (a.cond == "") != (a.hint == "") {
			t.Errorf("%q: advice %+v, want condition %q and a hint with %q", c.msg, a, c.cond, c.hint)
		}
	}
}

func TestTargetErrors(t *testing.T) {
	for _, c := range []struct {
		amqp, mgmt, field, url, err string
	}{
		{"amqp://bob:s3cr3t-p4ss@host:notaport/", "", FieldURL, "",
			`parse "amqp://bob:xxxxx@host:notaport/": invalid port ":notaport" after host`},
		{"http://bob:s3cr3t-p4ss@host/", "", FieldURL, "http://bob:xxxxx@host/", "the scheme must be amqp:// or amqps://"},
		{"amqp://bob:s3cr3t-p4ss@/", "", FieldURL, "amqp://bob:xxxxx@/", "no host"},
		{"amqp://h/", "http://ops:s3cr3t-p4ss@[::1", FieldMgmtURL, "",
			`parse "http://ops:xxxxx@[::1": missing ']' in host`},
		{"amqp://h/", "ftp://ops:s3cr3t-p4ss@h/", FieldMgmtURL, "ftp://ops:xxxxx@h/", "the scheme must be http:// or https://"},
	} {
		_, err := ParseTarget(c.amqp, c.mgmt)
		var te *TargetError
		if !errors.As(err, &te) {
			t.Errorf("%q %q: error %v (%T), want a *TargetError", c.amqp, c.mgmt, err, err)
			continue
		}
		if te.Field != c.field || te.URL != c.url || te.Err.Error() != c.err {
			t.Errorf("%q %q: %+v, want field %q, URL %q, error %q", c.amqp, c.mgmt, te, c.field, c.url, c.err)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "--") || !strings.HasSuffix(msg, c.err) {
			t.Errorf("message %q", msg)
		}
		_, _, ferr := Feeds(Config{URL: c.amqp, MgmtURL: c.mgmt})
		if !errors.As(ferr, &te) || ferr.Error() != err.Error() {
			t.Errorf("Feeds: %v, want %v", ferr, err)
		}
	}
	// The command line renders them as its flags.
	_, err := ParseTarget("amqp://h/", "gopher://h")
	var te *TargetError
	if errors.As(err, &te); err.Error() != "management URL gopher://h: the scheme must be http:// or https://" ||
		"--"+te.Field+" "+te.URL+": "+te.Err.Error() != "--mgmt-url gopher://h: the scheme must be http:// or https://" {
		t.Errorf("%v", err)
	}
}
