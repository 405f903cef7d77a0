"""`somana estop` publishes through Mosquitto's own client (`mosquitto_pub`) to a real Mosquitto: the
message every station acts on (topic, QoS 1, not retained, one id per press), the broker found as
the other commands find it, and a one-line error with exit status 2 when the message cannot go out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from somana_core.floor import bus
from somana_core.floor.local import LocalBroker, free_port, find_mosquitto
from tests.support.waiting import wait_until


def somana_estop(*args, env=None):
    return subprocess.run([sys.executable, "-m", "somana", "estop", *args], capture_output=True, text=True,
                          timeout=60, env=env or os.environ.copy())


@pytest.fixture
def estops(broker):
    """Every message on somana/estop as (payload bytes, qos, retain), read with paho at QoS 1."""
    import paho.mqtt.client as mqtt

    seen, subscribed = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.on_connect = lambda c, u, f, reason, p=None: c.subscribe(bus.ESTOP_TOPIC, qos=1)
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_message = lambda c, u, message: seen.append((message.payload, message.qos, message.retain))
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert subscribed.wait(10)
    yield seen
    client.disconnect()
    client.loop_stop()


def test_each_press_is_one_qos1_message_with_its_own_id_to_the_broker_named_in_somana_home(
        broker, estops, somana_home):
    (somana_home / bus.BROKER_FILE).write_text(broker.url + "\n")  # as a running `somana serve` writes it
    env = {k: v for k, v in os.environ.items() if k != bus.BROKER_ENV}
    env["SOMANA_HOME"] = str(somana_home)
    for args in (["--all"], ["east/mk4-1"]):
        run = somana_estop(*args, "--confirm", "0", env=env)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().endswith(f"through 127.0.0.1:{broker.port}"), run.stdout
    wait_until(lambda: len(estops) == 2, 5, message="both presses on somana/estop")
    payloads = [json.loads(data) for data, _, _ in estops]
    assert [p["printer"] for p in payloads] == ["*", "east/mk4-1"]
    assert all(qos == 1 and not retain for _, qos, retain in estops)  # at least once, never replayed to newcomers
    ids = [p["id"] for p in payloads]
    assert all(i.startswith("cli-") for i in ids) and len(set(ids)) == 2  # one id per press (stations act once per id)


def test_a_broker_that_refuses_the_connection_is_one_line_and_exit_2(tmp_path, estops):
    port = free_port()
    passwords = tmp_path / "passwd"
    passwords.touch(mode=0o600)
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "staff", "secret"], check=True, capture_output=True)
    config = tmp_path / "mosquitto.conf"
    config.write_text("\n".join(["persistence false", "log_dest stderr", *(["user root"] if os.geteuid() == 0 else []),
                                 f"listener {port} 127.0.0.1", "allow_anonymous false",
                                 f"password_file {passwords}"]) + "\n")
    with subprocess.Popen([find_mosquitto(), "-c", str(config)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as mosquitto:
        try:
            import socket

            def listening():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    return True
                except OSError:
                    return False
            wait_until(listening, 10, message="the password-only Mosquitto listening")
            run = somana_estop("--all", "--broker", f"mqtt://127.0.0.1:{port}", "--confirm", "0")
        finally:
            mosquitto.terminate()
    assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and "NOT sent" in run.stderr and "not authori" in run.stderr, run.stderr
    closed = somana_estop("--all", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--confirm", "0")
    assert closed.returncode == 2 and closed.stderr.count("\n") == 1 and "NOT sent" in closed.stderr, closed.stderr
    assert estops == []


def test_without_mosquitto_pub_the_estop_says_so_in_one_line_and_exits_2(broker, estops, tmp_path):
    assert shutil.which("mosquitto_pub")  # installed by scripts/system_deps.sh; here it is hidden from PATH
    env = dict(os.environ, PATH=str(tmp_path))
    run = somana_estop("--all", "--broker", broker.url, "--confirm", "0", env=env)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "mosquitto_pub is missing" in run.stderr and "mosquitto-clients" in run.stderr
    assert estops == []
