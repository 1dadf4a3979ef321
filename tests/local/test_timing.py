"""The emulator's timing settings: profiles, the scale, the environment, the per-call latency."""

from __future__ import annotations

import time

import boto3
import pytest

from pipeline.cli import main
from pipeline.local import timing
from pipeline.local.emulator import Emulator


def test_profiles_scale_and_fallback_names():
    aws = timing.profile("aws")
    instant = timing.profile("instant")
    assert aws.window("lambda.update_code") == 2.0 and aws.latency("lambda") > 0
    assert 0 < instant.window("lambda.update_code") <= 0.05 and instant.latency("lambda") == 0
    # a name falls back to its parent: a resource type without its own figure gets the generic one
    assert aws.window("cloudformation.create.AWS::Logs::LogGroup") == aws.window("cloudformation.create")
    assert timing.profile("aws", 0.1).window("lambda.create") == pytest.approx(0.15)
    with pytest.raises(KeyError):
        aws.window("lambda.nonsense")


def test_environment_and_options_choose_the_timing():
    assert timing.from_env({}).profile == "aws"  # what local up / --local / demo get by default
    chosen = timing.from_env({"PIPELINE_EMULATOR_TIMING": "instant", "PIPELINE_EMULATOR_TIME_SCALE": "3"})
    assert chosen.profile == "instant" and chosen.scale == 3.0
    # options (local up --timing/--time-scale) win over the environment
    assert timing.from_env({"PIPELINE_EMULATOR_TIMING": "instant"}, name="aws", scale=0.5).describe() == "aws x0.5"
    for env, needle in (({"PIPELINE_EMULATOR_TIMING": "fast"}, "unknown emulator timing 'fast'"),
                        ({"PIPELINE_EMULATOR_TIME_SCALE": "abc"}, "must be a number > 0"),
                        ({"PIPELINE_EMULATOR_TIME_SCALE": "0"}, "must be a number > 0")):
        with pytest.raises(timing.TimingError, match=needle):
            timing.from_env(env)


def test_local_up_refuses_a_bad_scale_with_exit_2(capsys):
    assert main(["local", "up", "--time-scale", "-1"]) == 2
    err = capsys.readouterr().err
    assert "time scale must be a number > 0" in err and len(err.strip().splitlines()) == 1


def test_aws_profile_charges_latency_per_call_and_scales():
    def median_call(emu: Emulator) -> float:
        s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1", verify=emu.ca_bundle,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.list_buckets()  # first call pays imports
        times = []
        for _ in range(5):
            start = time.perf_counter()
            s3.list_buckets()
            times.append(time.perf_counter() - start)
        return sorted(times)[2]

    before = timing.active()  # the timing is the process's: give the session's emulator its own back
    try:
        with Emulator(timing=timing.profile("aws", 2.0)) as emu:   # s3: 30 ms x 2
            slow = median_call(emu)
        with Emulator(timing=timing.profile("instant")) as emu:
            fast = median_call(emu)
    finally:
        timing.activate(before)
    assert slow >= 0.06 and slow - fast >= 0.035, (slow, fast)  # 60 ms charged; the rest is shared-machine noise


def test_using_overrides_one_window_and_restores():
    before = timing.active()
    with timing.using(lambda_update_code=1.0) as inside:
        assert timing.active().window("lambda.update_code") == pytest.approx(1.0)
        assert inside.window("lambda.create") == before.window("lambda.create")
    assert timing.active() is before


def test_cloudformation_never_reports_a_function_before_lambda_is_done():
    for name in timing.PROFILES:
        t = timing.profile(name)
        assert t.window("cloudformation.create.AWS::Lambda::Function") >= t.window("lambda.create")
        assert t.window("cloudformation.update.AWS::Lambda::Function") >= t.window("lambda.update_code")
