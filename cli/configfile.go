package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configFile is the config file: settings for every run, and named
// contexts (one per cluster) that set the connection and its sources.
//
//	# ~/.config/amqptop/config.yaml
//	context: prod                  # the context used when --context is not given
//	theme: dark                    # any setting, by its key
//	contexts:
//	  prod:
//	    url: amqps://monitor@mq-1.prod:5671/
//	    mgmt_url: https://mq-1.prod:15671
//	    password_file: ~/.config/amqptop/prod.password
//	    poll: 10s
//	  staging:
//	    url: amqp://monitor@mq.staging:5672/
//
// A password is never stored in it: a context names a password file, or
// the password comes from AMQPTOP_PASSWORD.
type configFile struct {
	path     string
	current  string
	values   map[string]string
	contexts map[string]map[string]string
	order    []string // contexts in file order
	warnings []string
}

func (f *configFile) contextNames() []string { return f.order }

// maxConfigFile bounds what is read: a config file is a few lines.
const maxConfigFile = 1 << 20

// defaultConfigPath is $XDG_CONFIG_HOME/amqptop/config.yaml, or
// ~/.config/amqptop/config.yaml.
func defaultConfigPath(home, xdg string) string {
	if xdg != "" {
		return filepath.Join(xdg, "amqptop", "config.yaml")
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "amqptop", "config.yaml")
}

// loadConfigFile reads the config file: the one named (an error when it is
// missing), else the default one (none is fine). It returns the path
// looked at, for messages.
func loadConfigFile(named, home, xdg string) (*configFile, string, error) {
	path := named
	if path == "" {
		path = defaultConfigPath(home, xdg)
		if path == "" {
			return nil, "", nil
		}
	}
	path = expandHome(path)
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && named == "" {
			return nil, path, nil
		}
		return nil, path, fmt.Errorf("config file: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, path, fmt.Errorf("config file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, path, fmt.Errorf("config file %s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxConfigFile+1))
	if err != nil {
		return nil, path, fmt.Errorf("config file: %w", err)
	}
	if len(data) > maxConfigFile {
		return nil, path, fmt.Errorf("config file %s: larger than %d bytes", path, maxConfigFile)
	}
	f, err := parseConfigFile(path, data)
	if err != nil {
		return nil, path, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		f.warnings = append(f.warnings, fmt.Sprintf("warning: %s can be read by others (mode %04o); it names your brokers and password files: chmod 600 %s", path, perm, path))
	}
	return f, path, nil
}

// parseConfigFile reads the YAML: top-level settings by key, `context:`,
// and `contexts:` of name → context settings. A key that is no setting
// (or one a context may not set) is an error with its line.
func parseConfigFile(path string, data []byte) (*configFile, error) {
	f := &configFile{path: path, values: map[string]string{}, contexts: map[string]map[string]string{}}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file
		}
		return nil, fmt.Errorf("config file %s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return f, nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected settings (key: value) at the top", path, top.Line)
	}
	fail := func(n *yaml.Node, format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", path, n.Line, fmt.Sprintf(format, a...))
	}
	scalar := func(n *yaml.Node, key string) (string, error) {
		if n.Kind != yaml.ScalarNode {
			return "", fail(n, "%s: expected a value, not a list or a map", key)
		}
		return n.Value, nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "context":
			s, err := scalar(v, "context")
			if err != nil {
				return nil, err
			}
			f.current = s
		case "contexts":
			if v.Kind != yaml.MappingNode {
				return nil, fail(v, "contexts: expected name: {settings}")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				name, body := v.Content[j], v.Content[j+1]
				if _, dup := f.contexts[name.Value]; dup {
					return nil, fail(name, "context %q is defined twice", name.Value)
				}
				if body.Kind != yaml.MappingNode {
					return nil, fail(body, "context %q: expected settings (key: value)", name.Value)
				}
				vals := map[string]string{}
				for m := 0; m+1 < len(body.Content); m += 2 {
					ck, cv := body.Content[m], body.Content[m+1]
					s := settingByKey(ck.Value)
					if s == nil || !s.ctx {
						return nil, fail(ck, "context %q: %q is not a context setting (one of: %s)", name.Value, ck.Value, strings.Join(contextKeys(), ", "))
					}
					val, err := scalar(cv, ck.Value)
					if err != nil {
						return nil, err
					}
					vals[ck.Value] = val
				}
				f.contexts[name.Value] = vals
				f.order = append(f.order, name.Value)
			}
		default:
			s := settingByKey(k.Value)
			if s == nil || s.group == gConfig {
				return nil, fail(k, "unknown key %q%s", k.Value, suggest(k.Value, fileKeys()))
			}
			val, err := scalar(v, k.Value)
			if err != nil {
				return nil, err
			}
			f.values[k.Value] = val
		}
	}
	for _, name := range f.order {
		for _, k := range []string{"url", "mgmt_url"} {
			if u, err := url.Parse(f.contexts[name][k]); err == nil {
				if _, has := u.User.Password(); has {
					f.warnings = append(f.warnings, fmt.Sprintf("warning: %s: context %s: %s holds a password; keep it in a password_file instead", path, name, k))
				}
			}
		}
	}
	for _, k := range []string{"url", "mgmt_url"} {
		if u, err := url.Parse(f.values[k]); err == nil {
			if _, has := u.User.Password(); has {
				f.warnings = append(f.warnings, fmt.Sprintf("warning: %s: %s holds a password; keep it in a password_file instead", path, k))
			}
		}
	}
	if f.current != "" {
		if _, ok := f.contexts[f.current]; !ok {
			return nil, fmt.Errorf("%s: context: %q is not one of the contexts (%s)", path, f.current, strings.Join(f.order, ", "))
		}
	}
	return f, nil
}

func contextKeys() []string {
	var out []string
	for _, s := range settings {
		if s.ctx {
			out = append(out, s.key)
		}
	}
	return out
}

func fileKeys() []string {
	out := []string{"context", "contexts"}
	for _, s := range settings {
		if s.group != gConfig {
			out = append(out, s.key)
		}
	}
	sort.Strings(out)
	return out
}
