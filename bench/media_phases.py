"""The newer parts of `make bench-media`: the low rendition, 1:1 interview rooms, latency.

Each phase runs its own fresh server process and returns rows or samples; the report
functions turn them into markdown, as ratios against the baselines of the same run
(a forwarded viewer, a re-encoded viewer, a direct connection without the server).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from aiortc import RTCPeerConnection

from bench.common import percentile
from bench.media_load import (
    JOIN_TIMEOUT,
    NO_ICE_SERVERS,
    SETTLE_SECONDS,
    LatencyTally,
    Load,
    Row,
    measure,
    server_and_load,
)
from bench.media_source import (
    ClipAudioSource,
    ClipVideoSource,
    NoiseVideoSource,
    StampedVideoSource,
)
from fairserver.webrtc import passthrough, rendition
from tests.webrtc.media import ToneAudioSource

LATENCY_TARGET_MS = 200
ROOMS_TARGET = 40


def _per_step(rows: list[Row], index: int, since: int = 0) -> float:
    """Extra server CPU (fraction of a core) per counted unit between two rows."""
    a, b = rows[since], rows[index]
    units = b.viewers - a.viewers
    return (b.cpu_percent - a.cpu_percent) / 100 / units if units > 0 else float("nan")


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2f}" if fraction == fraction else "—"


def _rows(rows: list[Row], unit: str) -> list[str]:
    lines = [
        f"| {unit} | server CPU % of a core | RSS MB | video fps / kbps at each viewer (median)"
        " | load-process CPU % | failed joins |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.viewers} | {r.cpu_percent:.1f} | {r.rss / 2**20:.0f} | {r.video_fps:.1f} /"
        f" {r.video_kbps:.0f} | {r.load_cpu_percent:.0f} | {r.failed} |"
        for r in rows
    ]
    return lines


# ---------------------------------------------------------------- the low rendition


async def run_low(steps: list[int], seconds: float) -> list[Row]:
    """One presenter; low viewers added step by step (the first one starts the rendition)."""
    async with server_and_load("forward") as (process, load):
        await load.publish(NoiseVideoSource(), ToneAudioSource())
        await asyncio.sleep(2)
        rows = []
        for total in steps:
            print(f"low: {total} viewers", file=sys.stderr)
            await load.grow_to(total, "low", low=True)
            rows.append(await measure(load, "low", process.pid, seconds, len(load.viewers)))
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def low_report(rows: list[Row], reencoded_viewer: float, seconds: float) -> str:
    lines = [
        "### The low rendition (decode once + encode once per source)",
        "",
        f"The same presenter, fresh server; low viewers (the rendition's"
        f" {rendition.LOW_BOX[0]}x{rendition.LOW_BOX[1]} ≤ {rendition.LOW_FPS} fps"
        f" ~{rendition.LOW_BITRATE // 1000} kbps VP8, plus the forwarded Opus) added step by step,"
        f" each step measured for {seconds:.0f} s. The first low viewer starts the rendition.",
        "",
        *_rows(rows, "low viewers"),
        "",
    ]
    counts = [r.viewers for r in rows]
    if len(rows) < 3 or counts[0] != 0 or counts[1] != 1:
        return "\n".join([*lines, "(needs steps 0, 1 and more to separate the rendition)"])
    per_low = _per_step(rows, len(rows) - 1, since=1)
    transcode = (rows[1].cpu_percent - rows[0].cpu_percent) / 100 - per_low
    ratio = transcode / reencoded_viewer if reencoded_viewer > 0 else float("nan")
    lines += [
        f"- The rendition (its first viewer's CPU minus one low viewer's): **{_pct(transcode)}%"
        f" of a core per source**, whatever the number of low viewers.",
        f"- Each further low viewer: {_pct(per_low)}% of a core (forwarding the rendition's"
        f" packets and the Opus), measured from 1 to {counts[-1]} low viewers.",
        f"- Ratio: the whole rendition costs **{ratio:.2f}×** one re-encoded viewer of the"
        f" baseline above (which re-encodes at full size); re-encoding per low viewer would"
        f" cost that per viewer.",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- 1:1 interview rooms


async def add_room(load: Load, name: str) -> None:
    """Two participants each publish clip video + Opus and watch the other."""
    a, b = f"{name}:a", f"{name}:b"
    await asyncio.gather(
        load.publish(ClipVideoSource(), ClipAudioSource(), room=name, participant=a),
        load.publish(ClipVideoSource(), ClipAudioSource(), room=name, participant=b),
    )
    await asyncio.gather(
        asyncio.wait_for(load.join(a, room=name, publisher=b), JOIN_TIMEOUT),
        asyncio.wait_for(load.join(b, room=name, publisher=a), JOIN_TIMEOUT),
    )


async def run_rooms(steps: list[int], seconds: float) -> list[Row]:
    async with server_and_load("forward") as (process, load):
        rooms = 0
        rows = []
        for total in steps:
            print(f"interviews: {total} rooms", file=sys.stderr)
            while rooms < total:
                try:
                    await add_room(load, f"i{rooms}")
                except Exception as error:  # counted, not fatal
                    print(f"  room i{rooms} failed: {error!r}", file=sys.stderr)
                    load.failed += 1
                rooms += 1
            rows.append(await measure(load, "rooms", process.pid, seconds, rooms))
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def rooms_report(rows: list[Row], forwarded_viewer: float, seconds: float) -> str:
    lines = [
        "### Concurrent 1:1 interview rooms",
        "",
        "Each room: two participants, each publishing the 640x360 VP8 clip (~600 kbps,"
        " pre-encoded once and replayed, so the load process does not encode) + Opus on one"
        " connection and watching the other through the forwarding core on a second one, as"
        f" the browser does. Fresh server; rooms added step by step, each step measured for"
        f" {seconds:.0f} s. CPU per room = (CPU at R rooms − CPU at 0) / R.",
        "",
        *_rows(rows, "rooms"),
        "",
    ]
    if len(rows) < 2 or rows[0].viewers != 0:
        return "\n".join([*lines, "(needs steps 0 and more)"])
    per_room = _per_step(rows, len(rows) - 1)
    per_core = 1 / per_room if per_room > 0 else float("inf")
    ratio = per_room / forwarded_viewer if forwarded_viewer > 0 else float("nan")
    met = "met" if per_core >= ROOMS_TARGET else "NOT met"
    lines += [
        f"- {_pct(per_room)}% of a core (CPU-seconds per second) per room → **{per_core:,.0f}"
        f" rooms per core** (at R={rows[-1].viewers}); docs/targets.md target ≥ {ROOMS_TARGET}:"
        f" **{met}**.",
        f"- Ratio: a room costs **{ratio:.1f}×** one forwarded stage viewer (it receives two"
        " publishers' streams and forwards each to one viewer).",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- glass-to-glass latency


@dataclass
class Latency:
    full: list[LatencyTally]
    low: list[LatencyTally]
    direct: LatencyTally


async def direct_viewer(load: Load) -> LatencyTally:
    """The baseline: the same camera straight to a decoding peer, no server in between."""
    sender, receiver = RTCPeerConnection(NO_ICE_SERVERS), RTCPeerConnection(NO_ICE_SERVERS)
    load.pcs += [sender, receiver]
    camera = StampedVideoSource()
    transceiver = sender.addTransceiver(camera, direction="sendonly")
    passthrough.prefer_forwardable_codecs(transceiver)
    passthrough.on_keyframe_request(transceiver.sender, camera.want_keyframe)
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    tally = LatencyTally()
    track = receiver.getTransceivers()[0].receiver.track
    load.readers.append(asyncio.ensure_future(tally.read(track)))
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return tally


async def run_latency(seconds: float, viewers: int) -> Latency:
    async with server_and_load("forward") as (_, load):
        await load.publish(StampedVideoSource(), None)
        full = [await load.join_decoding(f"full{i}", low=False) for i in range(viewers)]
        low = [await load.join_decoding(f"low{i}", low=True) for i in range(viewers)]
        direct = await direct_viewer(load)
        every = [*full, *low, direct]
        print(f"latency: {viewers} full + {viewers} low + direct", file=sys.stderr)
        await asyncio.sleep(SETTLE_SECONDS)
        for tally in every:
            tally.recording = True
        await asyncio.sleep(seconds)
        for tally in every:
            tally.recording = False
    return Latency(full, low, direct)


def _latency_row(path: str, tallies: list[LatencyTally]) -> tuple[str, float, float]:
    samples = [s for t in tallies for s in t.samples]
    unreadable = sum(t.unreadable for t in tallies)
    sizes = sorted({f"{t.size[0]}x{t.size[1]}" for t in tallies if t.samples})
    p50, p95, p99 = (percentile(samples, q) for q in (0.5, 0.95, 0.99))
    row = (
        f"| {path} | {len(tallies)} | {', '.join(sizes) or '—'} | {len(samples):,} | {unreadable}"
        f" | {p50:.0f} | {p95:.0f} | {p99:.0f} |"
    )
    return row, p50, p95


def latency_report(result: Latency, seconds: float) -> str:
    full, full50, full95 = _latency_row("forwarded (full rate)", result.full)
    low, low50, low95 = _latency_row("low rendition", result.low)
    direct, direct50, _ = _latency_row("direct, no server (baseline)", [result.direct])

    def times(p50: float) -> str:
        return f"{p50 / direct50:.1f}×" if direct50 > 0 else "—"

    def verdict(p95: float) -> str:
        return "met" if p95 <= LATENCY_TARGET_MS else "NOT met"

    return "\n".join(
        [
            "### Glass-to-glass latency on loopback",
            "",
            "The presenter draws its capture time (CLOCK_MONOTONIC ms, a 32-cell bar code with a"
            " check byte) into each 640x360 picture before encoding it; viewers decode with"
            " aiortc's own receiver (jitter buffer, decoder thread) and read the time back from"
            " the picture, in the load process, so the figure covers encode, send, the server,"
            f" receive and decode. {seconds:.0f} s of frames after {SETTLE_SECONDS:.0f} s of"
            " settling; the baseline is the same camera sent straight to a decoding peer in the"
            " same run.",
            "",
            "| path | viewers | decoded size | frames | unreadable | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|---|---|",
            full,
            low,
            direct,
            "",
            f"- The server adds {full50 - direct50:.0f} ms at p50 when forwarding"
            f" ({times(full50)} the direct path) and {low50 - direct50:.0f} ms through"
            f" the rendition ({times(low50)}).",
            f"- docs/targets.md target glass-to-glass p95 ≤ {LATENCY_TARGET_MS} ms on loopback:"
            f" forwarded **{verdict(full95)}** (p95 {full95:.0f} ms); low rendition"
            f" **{verdict(low95)}** (p95 {low95:.0f} ms).",
        ]
    )
