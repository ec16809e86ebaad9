# amqptop — make targets. `make` alone lists them.
GO       ?= go
BIN      ?= bin/amqptop
PKGS     := ./...
TESTFLAGS ?=

.PHONY: help build demo run test test-short bench measure measure-scale loadgen lint golden fuzz fuzz-smoke zoo broker-start broker-stop clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/amqptop
	$(GO) build -o $(BIN) .

demo: build ## run the dashboard on the built-in demo (no broker needed)
	./$(BIN) --demo

run: build ## run the dashboard against AMQPTOP_URL (default amqp://guest:guest@localhost:5672/)
	./$(BIN)

test: ## all tests, integration tests against private RabbitMQ nodes included, then each fuzz target briefly (CI runs this)
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 15m $(TESTFLAGS) $(PKGS)
	$(MAKE) --no-print-directory fuzz-smoke

fuzz-smoke: ## each fuzz target for a few seconds (CI; the seeds and the committed corpus run with every go test)
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(or $(FUZZTIME),3s)

test-short: ## the fast tests only (no broker, no 60 s acceptance run)
	$(GO) test -short -count=1 $(PKGS)

bench: ## benchmarks (numbers go in the README)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

measure: ## the README's numbers, side by side in one run: every benchmark, then (against a private node) the probe's detection time after a cut at the default 10 s heartbeat, the recovery, and the heap over 8 simulated hours
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	@log=$${TMPDIR:-/tmp}/amqptop-measure.log; \
	AMQPTOP_TEST_HEARTBEAT=$(or $(HEARTBEAT),10s) $(GO) test -count=1 -timeout 10m -v \
		-run '^(TestNetworkFaultsInAmqptopsPath|TestLongDemoRunHasBoundedMemory|TestNoGoroutineGrowthAcross100Reconnects)$$' ./cli ./monitor >$$log 2>&1; \
	rc=$$?; grep -E 'saw the cut|after the cut healed|hour [0-9]+:|cycles|^(--- |ok|FAIL)' $$log; \
	[ $$rc -eq 0 ] || echo "measure: the tests failed (rc $$rc): $$log"; exit $$rc

measure-scale: ## what amqptop costs a private node at N live connections and how fast it shows them (N=500,2000,5000; the README keeps the table)
	$(GO) run ./faults/cmd/scale -n $(or $(N),500,2000,5000)

loadgen: ## N real connections (2 channels, a consumer, light traffic each) against the private node of scripts/testbroker; N=500 FOR=0s (until ^C) END=close|kill URL=amqp://...
	$(GO) run ./faults/cmd/loadgen -n $(or $(N),500) -for $(or $(FOR),0s) -end $(or $(END),close) $(if $(URL),-url '$(URL)')

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l .)" || { echo "gofmt:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)

golden: ## rewrite the UI's golden files after an intended change
	$(GO) test ./ui/... -update

fuzz: ## run each fuzz target for 60 s (FUZZTIME=10m for longer)
	@set -e; for t in \
		./causes:FuzzDiagnose ./causes:FuzzRules ./causes:FuzzExplain \
		./model/wire:FuzzParseLogLine ./model/wire:FuzzLogGrouper ./model/wire:FuzzParseConnLog \
		./model/wire:FuzzConnLogRoundTrip ./model/wire:FuzzErlTerms \
		./monitor:FuzzMgmtDecode; do \
		echo "== $${t#*:} ($${t%%:*}, $(or $(FUZZTIME),60s))"; \
		$(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(or $(FUZZTIME),60s) -timeout 0; \
	done

zoo: ## capture every client library's texts for every fault against RabbitMQ 3.10.8 and 4.0.5 (zoo/testdata), then the matrices
	$(GO) run ./zoo/cmd/capture -broker 3 -out zoo/testdata
	$(GO) run ./zoo/cmd/capture -broker 4 -out zoo/testdata
	$(GO) run ./zoo/cmd/capture -out zoo/testdata -readme zoo/README.md
	$(GO) run ./zoo/cmd/capture -out zoo/testdata -readme README.md

broker-start: ## start a private dev broker (AMQP 36672, management 46672)
	scripts/testbroker start

broker-stop: ## stop the private dev broker
	scripts/testbroker stop

clean: ## remove build output
	rm -rf bin
