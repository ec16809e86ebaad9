package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/monitor"
)

// liveFeeds builds the live monitor's sources from the configuration.
func liveFeeds(c *config) ([]model.Feed, error) {
	feeds, _, err := monitor.Feeds(monitor.Config{
		URL:           c.url,
		MgmtURL:       c.mgmtURL,
		NoProbe:       c.noProbe || c.passive,
		NoEvents:      c.noEvents || c.passive,
		NoLogExchange: c.noLogExchange || c.passive,
		ProbeInterval: c.probeInterval,
		Heartbeat:     c.heartbeat,
		Poll:          c.poll,
		BrokerLog:     c.brokerLog,
		TLS:           c.tlsFiles(),
	})
	if err != nil {
		return nil, usageError{flagError(err)}
	}
	return append(feeds, ticker{}), nil
}

// tlsFiles are the TLS settings as the monitor takes them.
func (c *config) tlsFiles() monitor.TLSFiles {
	return monitor.TLSFiles{CAFile: expandHome(c.caCert), CertFile: expandHome(c.clientCert), KeyFile: expandHome(c.clientKey),
		ServerName: c.serverName, InsecureSkipVerify: c.insecureSkipVerify}
}

// tlsFlags names the flag of each TLS setting the monitor checks.
var tlsFlags = map[string]string{
	monitor.FieldCAFile: "--ca-cert", monitor.FieldCertFile: "--client-cert",
	monitor.FieldKeyFile: "--client-key", monitor.FieldServerName: "--server-name",
}

// flagError names the flag a monitor error is about: "--url amqp://h: no host",
// "--ca-cert ca.pem: no such file".
func flagError(err error) error {
	var fe *monitor.TLSFileError
	if errors.As(err, &fe) {
		flag := tlsFlags[fe.Field]
		if flag == "" {
			flag = "TLS"
		}
		if fe.Path != "" {
			flag += " " + fe.Path
		}
		return fmt.Errorf("%s: %w", flag, fe.Err)
	}
	var te *monitor.TargetError
	if !errors.As(err, &te) {
		return err
	}
	flag := "--url"
	if te.Field == monitor.FieldMgmtURL {
		flag = "--mgmt-url"
	}
	if te.URL != "" {
		flag += " " + te.URL
	}
	return fmt.Errorf("%s: %w", flag, te.Err)
}

// parseTarget gives the watched broker as a URL without its password.
func parseTarget(c *config) (string, error) {
	t, err := monitor.ParseTarget(c.url, c.mgmtURL)
	if err != nil {
		return "", err
	}
	return t.Redacted(), nil
}

// ticker moves the state's clock once a second in live mode, so a close
// waiting for its reason is settled on time even when nothing else arrives.
type ticker struct{}

func (ticker) Run(ctx context.Context, emit func(model.Observation)) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			emit(model.Tick{Meta: model.Meta{Time: now}})
		}
	}
}
