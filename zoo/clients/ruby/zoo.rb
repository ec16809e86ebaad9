# The zoo's client for Bunny (Ruby). It provokes the fault named by
# $ZOO_FAULT (see zoo/README.md for the protocol), prints READY when it is
# connected and waiting for the driver, and ends with one JSON line whose
# text is "#{e.class}: #{e.message}" of what Bunny raised, plus what Bunny
# logged at warn and above.
require "bunny"
require "json"
require "logger"
require "stringio"

ENVV = ENV
FAULT = ENVV.fetch("ZOO_FAULT")
WAIT = (ENVV["ZOO_WAIT"] || "45").to_i
HEARTBEAT = (ENVV["ZOO_HEARTBEAT"] || "0").to_i
$notes = []
$log = StringIO.new
$stdout.sync = true

class Skip < StandardError; end

# Bunny raises connection-level errors asynchronously into the thread that
# opened the session (its session_error_handler, Thread.current by
# default). This handler keeps the first such error and raises it into
# the main thread once, as the default does, but never a second time
# while the result is being printed.
class ErrorHandler
  def initialize(thread)
    @thread = thread
    @first = nil
    @mu = Mutex.new
  end

  attr_reader :first

  def raise(exc)
    @mu.synchronize do
      return if @first
      @first = exc
    end
    @thread.raise(exc)
  end
end

$handler = ErrorHandler.new(Thread.current)

def ready
  puts "READY"
end

def emit(e = nil, skipped: "")
  out = { version: Bunny::VERSION, raised: "", text: "", skipped: skipped }
  if e
    out[:raised] = e.class.name
    out[:text] = "#{e.class}: #{e.message}"
    out[:note_cause] = nil
    $notes << "caused by #{e.cause.class}: #{e.cause.message}" if e.cause
  end
  out.delete(:note_cause)
  out[:note] = $notes.join("; ")
  out[:client_log] = $log.string.split("\n").reject(&:empty?)
  puts JSON.generate(out)
end

def session
  logger = Logger.new($log)
  logger.level = Logger::WARN
  # Bunny logs an exception's backtrace one frame a call: keep the
  # messages, drop the frames (as for the other languages).
  logger.formatter = proc do |sev, _t, _prog, msg|
    m = msg.to_s
    m.start_with?("\t") || m.strip == "Backtrace:" ? "" : "#{sev}: #{m}\n"
  end
  Bunny.new(host: ENVV["ZOO_HOST"], port: ENVV["ZOO_PORT"].to_i, user: ENVV["ZOO_USER"], pass: ENVV["ZOO_PASS"],
            vhost: ENVV["ZOO_VHOST"], heartbeat: HEARTBEAT > 0 ? HEARTBEAT : :server,
            connection_name: ENVV["ZOO_CONN_NAME"], connection_timeout: 5,
            automatically_recover: false, recover_from_connection_close: false,
            session_error_handler: $handler, logger: logger)
end

# wait_for_error sleeps in the thread that opened the session: Bunny raises
# connection-level errors into that thread.
def wait_for_error(ch = nil)
  deadline = Time.now + WAIT
  while Time.now < deadline
    sleep 0.25
    if ch && ch.closed?
      $notes << "Bunny raised nothing; the channel is closed"
      return
    end
  end
  $notes << "no error within #{WAIT}s"
end

def publish_then_continue(ch, exchange, key, body)
  ch.basic_publish(body, exchange, key)
  $notes << "basic_publish returned; the error surfaced on the next call"
  deadline = Time.now + WAIT
  while Time.now < deadline
    sleep 0.5
    ch.basic_publish("again", exchange, key)
  end
  $notes << "no error within #{WAIT}s"
end

def run
  conn = session
  conn.start
  if %w[wrong-password missing-vhost vhost-refused refused-port].include?(FAULT)
    conn.close
    $notes << "connected without an error"
    return
  end
  ch = conn.create_channel
  q = ENVV["ZOO_QUEUE"].to_s
  case FAULT
  when "perm-queue", "exclusive-locked"
    ch.queue_declare(q, durable: false, auto_delete: false)
  when "inequivalent-args"
    ch.queue_declare(q, durable: false, auto_delete: false, arguments: { "x-message-ttl" => ENVV["ZOO_TTL"].to_i })
  when "passive-missing-queue"
    ch.queue_declare(q, passive: true)
  when "perm-read"
    ch.basic_get(q)
  when "perm-exchange", "perm-topic"
    publish_then_continue(ch, ENVV["ZOO_EXCHANGE"], ENVV["ZOO_ROUTING_KEY"], "zoo")
  when "message-too-large"
    publish_then_continue(ch, "", ENVV["ZOO_ROUTING_KEY"], "\0" * ENVV["ZOO_MSG_SIZE"].to_i)
  when "unknown-delivery-tag"
    ch.basic_ack(ENVV["ZOO_TAG"].to_i, false)
    $notes << "basic_ack returned; the error surfaced on the next call"
    deadline = Time.now + WAIT
    while Time.now < deadline
      sleep 0.5
      ch.basic_qos(1)
    end
    $notes << "no error within #{WAIT}s"
  when "consumer-ack-timeout"
    ch.basic_consume(q, "", false) { |_d, _p, _b| }
    wait_for_error(ch)
    if ch.closed?
      $notes << "close reason: #{ch.close_reason.inspect}" if ch.respond_to?(:close_reason) && ch.close_reason
    end
  when "channel-max"
    n = ENVV["ZOO_CHANNELS"].to_i
    (2..n).each do |i|
      begin
        conn.create_channel
      rescue StandardError
        $notes << "opening channel #{i} of #{n} failed"
        raise
      end
    end
    $notes << "opened #{n} channels without an error"
  when "publish-closed-channel"
    ch.close
    ch.basic_publish("zoo", "", ENVV["ZOO_ROUTING_KEY"])
  when "force-close", "broker-stop", "node-killed", "heartbeat-client", "heartbeat-broker"
    ready
    wait_for_error
  else
    raise Skip, "unknown fault #{FAULT}"
  end
end

result = nil
begin
  run
rescue Skip => s
  result = [:skip, s.message]
rescue Exception => e # rubocop:disable Lint/RescueException -- Bunny raises into this thread
  result = [:error, e]
end
# An error raised into this thread after the first one was kept by the
# handler; report the first.
begin
  if result.nil?
    emit
  elsif result[0] == :skip
    emit(skipped: result[1])
  else
    emit(result[1])
  end
rescue Exception => e # rubocop:disable Lint/RescueException
  $stderr.puts "zoo client: late error while reporting: #{e.class}: #{e.message}"
end
$stdout.flush
exit! 0 # do not wait for Bunny's threads
