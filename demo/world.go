package demo

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/amqptop/amqptop/model"
)

// Options choose what the demo simulates.
type Options struct {
	Seed     uint64    // random seed; the same seed gives the same run
	Scenario string    // "" or "tour" for all scenarios in turn, else one scenario's name
	Start    time.Time // simulated start time (zero: 2026-01-05 09:00 UTC)
	Nodes    int       // 1 to 3 (default 3)
}

// Scenario describes one failure the demo can play.
type Scenario struct {
	Name  string
	Title string
	play  func(w *World)
	span  time.Duration // how long it takes to play out
}

// simNode is one simulated RabbitMQ node.
type simNode struct {
	name      string
	addr      string // its IP
	up        bool
	startedAt time.Time
	memLimit  uint64
	memUsed   uint64
	diskFree  uint64
	diskLimit uint64
	memAlarm  bool
	nextPID   int
}

// simChan is one channel of a simulated connection.
type simChan struct {
	num, prefetch, consumers, unacked int
	confirm                           bool
	publish, deliver                  float64
}

// simConn is one simulated client connection.
type simConn struct {
	app         *app
	node        *simNode
	peer        string
	name        string // the broker's name: "peer -> node:5672"
	pid         string // <0.N.0>
	connectedAt time.Time
	recv, send  uint64
	lastRecv    uint64 // at the previous snapshot (for rates)
	lastSend    uint64
	state       model.ConnState
	silent      bool // sends nothing: the heartbeat scenario
	hbBytes     float64
	chans       []simChan
}

// World is the simulated cluster and its clock.
type World struct {
	opt          Options
	rng          *rand.Rand
	start        time.Time
	now          time.Time
	nodes        []*simNode
	apps         []*app
	conns        []*simConn
	queue        actions
	out          []model.Observation
	seq          int
	ports        int
	probe        probeSim
	alarm        bool // a memory alarm is in force: publishers are blocked
	mgmtUp       bool
	pushUp       bool // event and log exchanges
	mgmtAt       int  // index of the node serving the management API
	hbRuns       int  // heartbeat scenarios played so far
	lastSnapshot time.Time
}

// New builds a World. It returns an error for an unknown scenario.
func New(o Options) (*World, error) {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	}
	if o.Nodes <= 0 || o.Nodes > 3 {
		o.Nodes = 3
	}
	if o.Scenario == "" {
		o.Scenario = "tour"
	}
	if o.Scenario != "tour" && scenarioByName(o.Scenario) == nil {
		return nil, fmt.Errorf("unknown scenario %q (try: %s)", o.Scenario, ScenarioNames())
	}
	w := &World{opt: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), start: o.Start, now: o.Start,
		apps: defaultApps(), mgmtUp: true, pushUp: true, ports: 40000}
	for i := 0; i < o.Nodes; i++ {
		w.nodes = append(w.nodes, &simNode{name: fmt.Sprintf("rabbit@mq-%d", i+1), addr: fmt.Sprintf("10.0.1.%d", 11+i), up: true,
			startedAt: o.Start.Add(-time.Duration(20+i) * 24 * time.Hour), memLimit: 6_400_000_000, memUsed: uint64(1_600_000_000 + i*250_000_000),
			diskFree: 61_000_000_000 - uint64(i)*3_000_000_000, diskLimit: 2_000_000_000, nextPID: 4000 + i*1000})
	}
	// The management API answers from the second node (a load balancer in
	// front of the cluster would do the same), the probe and the push
	// streams connect to the first.
	w.mgmtAt = min(1, len(w.nodes)-1)
	w.populate()
	w.startProbe()
	w.every(0, 5*time.Second, w.snapshot)
	w.every(0, time.Second, w.traffic)
	w.every(0, time.Second, w.tick)
	w.schedule()
	return w, nil
}

// Start is the simulated time the world began.
func (w *World) Start() time.Time { return w.start }

// Next returns the next observation, advancing the simulated clock. The
// stream never ends.
func (w *World) Next() model.Observation {
	for len(w.out) == 0 {
		a := heap.Pop(&w.queue).(action)
		w.now = a.at
		a.do()
	}
	o := w.out[0]
	w.out = w.out[1:]
	return o
}

// action is something due at a simulated time.
type action struct {
	at  time.Time
	seq int
	do  func()
}

type actions []action

func (a actions) Len() int { return len(a) }
func (a actions) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a actions) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *actions) Push(x any)   { *a = append(*a, x.(action)) }
func (a *actions) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// at schedules f at time t.
func (w *World) at(t time.Time, f func()) {
	w.seq++
	heap.Push(&w.queue, action{at: t, seq: w.seq, do: f})
}

// after schedules f d after now.
func (w *World) after(d time.Duration, f func()) { w.at(w.now.Add(d), f) }

// every runs f at start+offset and then every period.
func (w *World) every(offset, period time.Duration, f func()) {
	var run func()
	run = func() {
		f()
		w.after(period, run)
	}
	w.at(w.start.Add(offset), run)
}

// meta stamps an observation with the simulated time and the source that
// would have seen it live: the demo's observations are tagged and handled
// exactly as the monitor's.
func (w *World) meta(src model.Source) model.Meta { return model.Meta{Time: w.now, Source: src} }

func (w *World) emit(o model.Observation) { w.out = append(w.out, o) }

func (w *World) tick() { w.emit(model.Tick{Meta: w.meta(model.SourceUnknown)}) }

// jitter returns d ± up to frac of d.
func (w *World) jitter(d time.Duration, frac float64) time.Duration {
	return d + time.Duration((w.rng.Float64()*2-1)*frac*float64(d))
}
