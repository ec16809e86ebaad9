// The zoo's client for the RabbitMQ Java client. It provokes the fault
// named by $ZOO_FAULT (see zoo/README.md for the protocol), prints READY
// when it is connected and waiting for the driver, and ends with one JSON
// line whose text is the exception chain as a stack trace shows it
// ("Class: message", then "Caused by: Class: message" lines, without the
// "at ..." frames).
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

public class Zoo {
    static final List<String> notes = new ArrayList<>();
    static final int WAIT = Integer.parseInt(env("ZOO_WAIT", "45"));

    static class Skip extends Exception {
        Skip(String why) {
            super(why);
        }
    }

    static String env(String k, String def) {
        String v = System.getenv(k);
        return v == null || v.isEmpty() ? def : v;
    }

    static String env(String k) {
        return env(k, "");
    }

    static int envInt(String k) {
        return Integer.parseInt(env(k, "0"));
    }

    static String version() {
        try {
            return com.rabbitmq.client.impl.ClientVersion.VERSION;
        } catch (Throwable t) {
            return "unknown";
        }
    }

    static String chain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c != t) {
                b.append("\nCaused by: ");
            }
            b.append(c.toString());
            if (c.getCause() == c) {
                break;
            }
        }
        return b.toString();
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    static void emit(Throwable t, String skipped) {
        String raised = t == null ? "" : t.getClass().getName();
        String text = t == null ? "" : chain(t);
        System.out.println("{\"version\":" + json(version()) + ",\"raised\":" + json(raised) + ",\"text\":" + json(text)
                + ",\"skipped\":" + json(skipped) + ",\"note\":" + json(String.join("; ", notes)) + "}");
        System.out.flush();
    }

    static Connection connect() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(env("ZOO_HOST"));
        f.setPort(envInt("ZOO_PORT"));
        f.setUsername(env("ZOO_USER"));
        f.setPassword(env("ZOO_PASS"));
        f.setVirtualHost(env("ZOO_VHOST"));
        f.setConnectionTimeout(5000);
        f.setAutomaticRecoveryEnabled(false);
        f.setTopologyRecoveryEnabled(false);
        if (envInt("ZOO_HEARTBEAT") > 0) {
            f.setRequestedHeartbeat(envInt("ZOO_HEARTBEAT"));
        }
        return f.newConnection(env("ZOO_CONN_NAME"));
    }

    static void publishThenContinue(Channel ch, String x, String k, byte[] body) throws Exception {
        ch.basicPublish(x, k, null, body);
        notes.add("basicPublish returned; the error surfaced on the next call");
        long end = System.currentTimeMillis() + WAIT * 1000L;
        while (System.currentTimeMillis() < end) {
            Thread.sleep(500);
            ch.basicPublish(x, k, null, "again".getBytes());
        }
        notes.add("no error within " + WAIT + "s");
    }

    static void run(String fault) throws Exception {
        if (List.of("wrong-password", "missing-vhost", "vhost-refused", "refused-port").contains(fault)) {
            connect().close();
            notes.add("connected without an error");
            return;
        }
        Connection conn = connect();
        LinkedBlockingQueue<ShutdownSignalException> shutdowns = new LinkedBlockingQueue<>();
        conn.addShutdownListener(shutdowns::add);
        Channel ch = conn.createChannel();
        String q = env("ZOO_QUEUE");
        switch (fault) {
            case "perm-queue":
            case "exclusive-locked":
                ch.queueDeclare(q, false, false, false, null);
                return;
            case "inequivalent-args": {
                Map<String, Object> args = new HashMap<>();
                args.put("x-message-ttl", envInt("ZOO_TTL"));
                ch.queueDeclare(q, false, false, false, args);
                return;
            }
            case "passive-missing-queue":
                ch.queueDeclarePassive(q);
                return;
            case "perm-read":
                ch.basicGet(q, false);
                return;
            case "perm-exchange":
            case "perm-topic":
                publishThenContinue(ch, env("ZOO_EXCHANGE"), env("ZOO_ROUTING_KEY"), "zoo".getBytes());
                return;
            case "message-too-large":
                publishThenContinue(ch, "", env("ZOO_ROUTING_KEY"), new byte[envInt("ZOO_MSG_SIZE")]);
                return;
            case "unknown-delivery-tag": {
                ch.basicAck(envInt("ZOO_TAG"), false);
                notes.add("basicAck returned; the error surfaced on the next call");
                long end = System.currentTimeMillis() + WAIT * 1000L;
                while (System.currentTimeMillis() < end) {
                    Thread.sleep(500);
                    ch.basicQos(1);
                }
                notes.add("no error within " + WAIT + "s");
                return;
            }
            case "consumer-ack-timeout": {
                LinkedBlockingQueue<ShutdownSignalException> consumerShutdown = new LinkedBlockingQueue<>();
                ch.basicConsume(q, false, new DefaultConsumer(ch) {
                    @Override
                    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                    }

                    @Override
                    public void handleShutdownSignal(String tag, ShutdownSignalException sig) {
                        consumerShutdown.add(sig);
                    }
                });
                ShutdownSignalException sig = consumerShutdown.poll(WAIT, TimeUnit.SECONDS);
                if (sig == null) {
                    notes.add("no error within " + WAIT + "s");
                    return;
                }
                notes.add("delivered to Consumer.handleShutdownSignal");
                throw sig;
            }
            case "channel-max": {
                int n = envInt("ZOO_CHANNELS");
                for (int i = 2; i <= n; i++) {
                    Channel c = conn.createChannel();
                    if (c == null) {
                        notes.add("createChannel() returned null for channel " + i + " of " + n + "; using it throws");
                        c.basicQos(1);
                    }
                }
                notes.add("opened " + n + " channels without an error");
                return;
            }
            case "publish-closed-channel":
                ch.close();
                ch.basicPublish("", env("ZOO_ROUTING_KEY"), null, "zoo".getBytes());
                return;
            case "force-close":
            case "broker-stop":
            case "node-killed":
            case "heartbeat-client":
            case "heartbeat-broker": {
                System.out.println("READY");
                System.out.flush();
                ShutdownSignalException sig = shutdowns.poll(WAIT, TimeUnit.SECONDS);
                if (sig == null) {
                    notes.add("no error within " + WAIT + "s");
                    return;
                }
                notes.add("delivered to a ShutdownListener");
                throw sig;
            }
            default:
                throw new Skip("unknown fault " + fault);
        }
    }

    public static void main(String[] argv) {
        try {
            run(env("ZOO_FAULT"));
            emit(null, "");
        } catch (Skip s) {
            emit(null, s.getMessage());
        } catch (Throwable t) {
            emit(t, "");
        }
        Runtime.getRuntime().halt(0);
    }
}
