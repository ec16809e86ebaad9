<?php
// The zoo's client for php-amqplib. It provokes the fault named by
// $ZOO_FAULT (see zoo/README.md for the protocol), prints READY when it
// is connected and waiting for the driver, and ends with one JSON line
// whose text is get_class($e) . ": " . $e->getMessage().

$autoload = getenv('ZOO_PHP_AUTOLOAD') ?: '/usr/share/php/PhpAmqpLib/autoload.php';
require_once $autoload;

use PhpAmqpLib\Connection\AMQPConnectionConfig;
use PhpAmqpLib\Connection\AMQPConnectionFactory;
use PhpAmqpLib\Exception\AMQPTimeoutException;
use PhpAmqpLib\Message\AMQPMessage;
use PhpAmqpLib\Wire\AMQPTable;

class Skip extends Exception
{
}

$notes = [];
$fault = getenv('ZOO_FAULT');
$wait = (int) (getenv('ZOO_WAIT') ?: 45);
$heartbeat = (int) (getenv('ZOO_HEARTBEAT') ?: 0);

function emit(?Throwable $e = null, string $skipped = ''): void
{
    global $notes;
    $out = ['version' => \PhpAmqpLib\Package::VERSION, 'raised' => '', 'text' => '', 'skipped' => $skipped];
    if ($e !== null) {
        $out['raised'] = get_class($e);
        $out['text'] = get_class($e) . ': ' . $e->getMessage();
        if ($e->getCode() !== 0) {
            $out['code'] = (string) $e->getCode();
        }
        if ($e->getPrevious() !== null) {
            $p = $e->getPrevious();
            $notes[] = 'previous: ' . get_class($p) . ': ' . $p->getMessage();
        }
    }
    $out['note'] = implode('; ', $notes);
    echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
}

function connect()
{
    global $heartbeat;
    $c = new AMQPConnectionConfig();
    $c->setHost(getenv('ZOO_HOST'));
    $c->setPort((int) getenv('ZOO_PORT'));
    $c->setUser(getenv('ZOO_USER'));
    $c->setPassword(getenv('ZOO_PASS'));
    $c->setVhost(getenv('ZOO_VHOST'));
    $c->setConnectionName(getenv('ZOO_CONN_NAME'));
    $c->setConnectionTimeout(5.0);
    $c->setReadTimeout(10.0);
    $c->setWriteTimeout(10.0);
    $c->setHeartbeat($heartbeat);
    return AMQPConnectionFactory::create($c);
}

// waitLoop waits on the channel for whatever the broker sends, as a
// consuming application does; timeouts of one wait are not errors.
function waitLoop($ch, callable $between = null): void
{
    global $wait, $notes;
    $end = microtime(true) + $wait;
    while (microtime(true) < $end) {
        try {
            $ch->wait(null, false, 1.0);
        } catch (AMQPTimeoutException $t) {
            if ($between !== null) {
                $between();
            }
        }
    }
    $notes[] = "no error within {$wait}s";
}

function run(string $fault): void
{
    global $notes;
    $conn = connect();
    if (in_array($fault, ['wrong-password', 'missing-vhost', 'vhost-refused', 'refused-port'], true)) {
        $conn->close();
        $notes[] = 'connected without an error';
        return;
    }
    $ch = $conn->channel();
    $q = (string) getenv('ZOO_QUEUE');
    $x = (string) getenv('ZOO_EXCHANGE');
    $k = (string) getenv('ZOO_ROUTING_KEY');
    $publishThenContinue = function (string $body) use ($ch, $x, $k, &$notes) {
        $ch->basic_publish(new AMQPMessage($body), $x, $k);
        $notes[] = 'basic_publish returned; the error surfaced on the next call';
        waitLoop($ch, function () use ($ch, $x, $k) {
            $ch->basic_publish(new AMQPMessage('again'), $x, $k);
        });
    };
    switch ($fault) {
        case 'perm-queue':
        case 'exclusive-locked':
            $ch->queue_declare($q, false, false, false, false);
            return;
        case 'inequivalent-args':
            $ch->queue_declare($q, false, false, false, false, false, new AMQPTable(['x-message-ttl' => (int) getenv('ZOO_TTL')]));
            return;
        case 'passive-missing-queue':
            $ch->queue_declare($q, true);
            return;
        case 'perm-read':
            $ch->basic_get($q);
            return;
        case 'perm-exchange':
        case 'perm-topic':
            $publishThenContinue('zoo');
            return;
        case 'message-too-large':
            $x = '';
            $ch->basic_publish(new AMQPMessage(str_repeat("\0", (int) getenv('ZOO_MSG_SIZE'))), '', $k);
            $notes[] = 'basic_publish returned; the error surfaced on the next call';
            waitLoop($ch, function () use ($ch, $k) {
                $ch->basic_publish(new AMQPMessage('again'), '', $k);
            });
            return;
        case 'unknown-delivery-tag':
            $ch->basic_ack((int) getenv('ZOO_TAG'));
            $notes[] = 'basic_ack returned; the error surfaced on the next call';
            waitLoop($ch, function () use ($ch) {
                $ch->basic_qos(0, 1, false);
            });
            return;
        case 'consumer-ack-timeout':
            $ch->basic_consume($q, '', false, false, false, false, function ($m) {
            });
            waitLoop($ch);
            return;
        case 'channel-max':
            $n = (int) getenv('ZOO_CHANNELS');
            for ($i = 2; $i <= $n; $i++) {
                try {
                    $conn->channel();
                } catch (Throwable $e) {
                    $notes[] = "opening channel $i of $n failed";
                    throw $e;
                }
            }
            $notes[] = "opened $n channels without an error";
            return;
        case 'publish-closed-channel':
            $ch->close();
            $ch->basic_publish(new AMQPMessage('zoo'), '', $k);
            return;
        case 'force-close':
        case 'broker-stop':
        case 'node-killed':
        case 'heartbeat-client':
        case 'heartbeat-broker':
            echo "READY\n";
            waitLoop($ch);
            return;
    }
    throw new Skip("unknown fault $fault");
}

try {
    run($fault);
    emit();
} catch (Skip $s) {
    emit(null, $s->getMessage());
} catch (Throwable $e) {
    emit($e);
}
// Skip the destructors: closing a broken connection may throw again.
exit(0);
