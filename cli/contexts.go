package cli

import (
	"fmt"
	"net/url"
	"strings"
)

// contexts lists the config file's contexts, the one in use marked.
func (a *app) contexts(c *config) error {
	if c.file == nil {
		path := c.configFile
		if path == "" {
			path = defaultConfigPath(a.home, a.xdg)
		}
		fmt.Fprintf(a.stdout, "no config file (%s): amqptop runs on its flags and AMQPTOP_* variables\n", path)
		return nil
	}
	if len(c.file.order) == 0 {
		fmt.Fprintf(a.stdout, "%s has no contexts\n", c.file.path)
		return nil
	}
	fmt.Fprintf(a.stdout, "%-2s%-16s %-48s %s\n", "", "CONTEXT", "URL", "MANAGEMENT")
	for _, name := range c.file.order {
		v := c.file.contexts[name]
		mark := ""
		if name == c.context {
			mark = "*"
		}
		fmt.Fprintf(a.stdout, "%-2s%-16s %-48s %s\n", mark, name, redactURL(v["url"]), redactURL(v["mgmt_url"]))
	}
	return nil
}

// redactURL shows a URL with its password as xxxxx.
func redactURL(s string) string {
	if s == "" {
		return "-"
	}
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.Index(s, "@"); i >= 0 {
			return "xxxxx" + s[i:]
		}
		return s
	}
	return u.Redacted()
}
