"""The bus's names and URLs, and the time-left estimate (pure functions, no broker)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from somana_core.errors import InputError
from somana_core.floor import bus
from somana_core.floor.eta import eta_s


def test_topics_follow_the_documented_scheme_and_split_back():
    assert bus.printer_topic("east", "mk4-1", "state") == "somana/east/mk4-1/state"
    assert bus.split_topic("somana/east/mk4-1/cmd") == ("east", "mk4-1", "cmd")
    assert bus.split_topic(bus.status_topic("east")) == ("east", None, "status")
    assert bus.split_topic("other/x") == ("", None, "")


@pytest.mark.parametrize("name", ["", "a/b", "+", "#", "-lead", "x" * 41, "sp ace"])
def test_names_that_would_break_topics_are_refused_with_the_field(name):
    with pytest.raises(InputError) as refused:
        bus.check_name("--name", name)
    assert refused.value.message.startswith("--name=")


@pytest.mark.parametrize("url, expected", [("mqtt://127.0.0.1:1884", ("127.0.0.1", 1884)),
                                           ("tcp://broker", ("broker", 1883)), ("floor-pc:2000", ("floor-pc", 2000))])
def test_broker_urls(url, expected):
    assert bus.parse_broker_url(url) == expected


@pytest.mark.parametrize("url", ["http://x:1", "mqtt://", "mqtt://h:99999", "mqtt://h:abc"])
def test_bad_broker_urls_name_the_option(url):
    with pytest.raises(InputError) as refused:
        bus.parse_broker_url(url)
    assert refused.value.message.startswith("--broker")


def test_unknown_command_is_refused():
    with pytest.raises(InputError):
        bus.new_command("explode")


def test_eta_without_progress_is_the_slicers_estimate_and_zero_when_done():
    assert eta_s(0.0, 0.0, 3600.0) == 3600.0
    assert eta_s(100.0, 1.0, 3600.0) == 0.0
    assert eta_s(0.0, 0.0) is None


def test_eta_on_pace_keeps_the_slicer_estimate():
    assert eta_s(1800.0, 0.5, 3600.0) == pytest.approx(1800.0)


def test_eta_follows_a_printer_twice_as_slow_as_planned_late_in_the_job():
    late = eta_s(2 * 0.9 * 3600.0, 0.9, 3600.0)
    assert late == pytest.approx(2 * 0.1 * 3600.0, rel=0.06)


def test_eta_ignores_most_of_a_long_heat_up_at_the_start():
    # 5 minutes heating, 1 % done: the plain extrapolation says 8 h 15 min for a 1 h job
    plain = eta_s(300.0, 0.01)
    corrected = eta_s(300.0, 0.01, 3600.0)
    assert plain > 8 * 3600 and corrected < 2.5 * 3600


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e5), st.floats(0, 1), st.floats(1, 1e5))
def test_eta_is_never_negative_and_between_plan_and_measured_pace(elapsed, fraction, estimate):
    value = eta_s(elapsed, fraction, estimate)
    assert value >= 0
    if 0 < fraction < 1 and elapsed > 0:
        planned = estimate * (1 - fraction)
        measured = elapsed * (1 - fraction) / fraction
        assert min(planned, measured) - 1e-6 <= value <= max(planned, measured) + 1e-6


def test_the_estop_websocket_user_can_stop_printers_and_nothing_else():
    """The browsers' e-stop listener: MQTT over WebSockets, password required, write to somana/estop only."""
    import paho.mqtt.client as mqtt

    from somana_core.floor.local import LocalBroker
    from tests.support.waiting import wait_until

    with LocalBroker(estop_websocket_address="127.0.0.1") as broker:
        seen = []
        watcher = bus.Bus(broker.url).connect()
        watcher.subscribe("somana/#", lambda topic, payload, retained: seen.append(topic))

        def web_client(password):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, transport="websockets")
            client.username_pw_set(broker.estop_user, password)
            answers = []
            client.on_connect = lambda c, u, f, reason, p=None: answers.append(reason)
            client.connect("127.0.0.1", broker.ws_port)
            client.loop_start()
            wait_until(lambda: answers, 5, message="CONNACK")
            return client, answers[0]

        client, reason = web_client(broker.estop_password)
        assert not reason.is_failure
        client.publish("somana/local/sim/cmd", b'{"action": "start"}', qos=1).wait_for_publish(5)
        client.publish(bus.ESTOP_TOPIC, b'{"printer": "*"}', qos=1).wait_for_publish(5)
        wait_until(lambda: bus.ESTOP_TOPIC in seen, 5, message="the e-stop delivered")
        assert "somana/local/sim/cmd" not in seen  # the ACL dropped it
        client.loop_stop()
        intruder, refused = web_client("guess")
        assert refused.is_failure
        intruder.loop_stop()
        watcher.close()
