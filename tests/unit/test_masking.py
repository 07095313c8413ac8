"""Write-time masking: a secret split across writes or raw chunks never reaches the disk in any part.

Generated secrets of every length from 3 to 32 bytes, generated outputs around them and generated split points,
through the StreamMasker, the raw stream (tiny chunks), step files (contents and names) and capture files.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from collector.secrets import NAME_MASK, Masker, StreamMasker
from collector.store.capture_files import CaptureFiles
from collector.store.chunks import RawStream, read_index
from collector.store.rundir import slugify
from collector.store.stepfile import StepFile

LENGTHS = range(3, 33)
FILLER = st.binary(max_size=40) | st.sampled_from([b"0000", b"\r\n", b"R1#", b"linu", b"*"])


def reference(data: bytes, secrets: list[bytes]) -> bytes:
    """What must be on disk: every occurrence masked, and a tail that is a secret's beginning (stream end)."""
    hide = bytearray(len(data))
    for s in secrets:
        for i in range(len(data) - len(s) + 1):
            if data[i:i + len(s)] == s:
                hide[i:i + len(s)] = b"\1" * len(s)
    tail = max((k for s in secrets for k in range(1, len(s)) if data.endswith(s[:k])), default=0)
    if tail:
        hide[len(data) - tail:] = b"\1" * tail
    return bytes(b"*"[0] if h else c for c, h in zip(data, hide, strict=True))


@st.composite
def stream_case(draw: st.DrawFn, length: int) -> tuple[bytes, list[bytes], list[int]]:
    secret = draw(st.binary(min_size=length, max_size=length).filter(
        lambda b: b"*" not in b and len(carrier(b)) >= 3))
    pieces: list[bytes] = []
    for _ in range(draw(st.integers(1, 6))):
        pieces.append(draw(FILLER))
        pieces.append(draw(st.sampled_from([secret, secret[: draw(st.integers(1, length))], secret * 2])))
    data = b"".join(pieces) + draw(FILLER)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    return data, [secret], cuts


def carrier(secret: bytes) -> str:
    """The str a Masker is given for arbitrary secret bytes (it encodes back with surrogateescape)."""
    return secret.decode("utf-8", "surrogateescape")


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@pytest.mark.parametrize("length", LENGTHS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_stream_masker_hides_every_part_whatever_the_split(length: int, data: st.DataObject) -> None:
    text, secrets, cuts = data.draw(stream_case(length))
    sm = StreamMasker(Masker([carrier(s) for s in secrets]))
    out = b"".join(sm.feed(p) for p in split(text, cuts)) + sm.flush()
    assert out == reference(text, secrets)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_overlapping_secrets_of_different_lengths(data: st.DataObject) -> None:
    alphabet = st.sampled_from(b"abc")
    secrets = data.draw(st.lists(st.binary(min_size=3, max_size=9).map(lambda b: bytes(x % 3 + 97 for x in b)),
                                 min_size=1, max_size=3, unique=True))
    text = bytes(data.draw(st.lists(alphabet, max_size=80)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
    sm = StreamMasker(Masker([s.decode() for s in secrets]))
    out = b"".join(sm.feed(p) for p in split(text, cuts)) + sm.flush()
    assert out == reference(text, secrets)


def disk(raw_dir: Path) -> bytes:
    names = sorted(p.name for p in raw_dir.glob("*.chunk"))
    return b"".join((raw_dir / n).read_bytes() for n in names)


@pytest.mark.parametrize("length", LENGTHS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_raw_chunks_never_hold_any_part_of_a_secret(tmp_path_factory: pytest.TempPathFactory, length: int,
                                                     data: st.DataObject) -> None:
    text, secrets, cuts = data.draw(stream_case(length))
    chunk = data.draw(st.integers(1, 70))
    raw_dir = tmp_path_factory.mktemp("raw")
    raw = RawStream(raw_dir, chunk_size=chunk, masker=Masker([carrier(secrets[0])]))
    want = reference(text, secrets)
    for piece in split(text, cuts):
        raw.append(piece)
        now = disk(raw_dir)
        assert want.startswith(now), "a byte reached the disk that must be masked"
    raw.close()
    seals = read_index(raw_dir)
    assert b"".join((raw_dir / s.file).read_bytes() for s in seals) == want
    assert raw.offset == len(text) == sum(s.length for s in seals)
    biggest = max(len(p) for p in split(text, cuts))  # one write is never split (as before masking)
    assert all(s.length < chunk + biggest + length for s in seals)


def test_issue_example_chunk_size_64(tmp_path: Path) -> None:
    raw = RawStream(tmp_path, chunk_size=64, masker=Masker(["linux-pw"]))
    raw.append(b"x" * 60 + b"0000linu")  # fills the first chunk: it is sealed before "x-pw" arrives
    assert b"lin" not in disk(tmp_path)
    raw.append(b"x-pw\r\nlinux@vm:~$ ")
    raw.close()
    seals = read_index(tmp_path)
    first, second = ((tmp_path / s.file).read_bytes() for s in seals)
    assert first == b"x" * 60 + b"0000" and seals[0].length == 64
    assert second == b"*" * 8 + b"\r\nlinux@vm:~$ " and seals[1].offset == 64
    assert raw.offset == 64 + 8 + len(b"\r\nlinux@vm:~$ ")


@pytest.mark.parametrize("length", LENGTHS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_step_files_are_masked_across_writes(tmp_path_factory: pytest.TempPathFactory, length: int,
                                             data: st.DataObject) -> None:
    text, secrets, cuts = data.draw(stream_case(length))
    d = tmp_path_factory.mktemp("steps")
    masker = Masker([carrier(secrets[0])])
    sink = StepFile(d / "001-show-x.txt", masker=masker)
    sink.open()
    want = reference(text, secrets)
    for piece in split(text, cuts):
        sink.write(piece)
        assert sink._fh is not None
        sink._fh.flush()
        assert want.startswith(sink.tmp.read_bytes())
    keep = data.draw(st.booleans())
    path = sink.keep_partial(1) if keep else sink.finish()
    assert path.read_bytes() == want and sink.bytes == len(text)
    assert sink.sha256 == hashlib.sha256(want).hexdigest()


SECRET_CHARS = st.characters(min_codepoint=33, max_codepoint=382, blacklist_characters="/")


@settings(max_examples=400, deadline=None)
@given(secret=st.text(SECRET_CHARS, min_size=3, max_size=24), before=st.text(max_size=50),
       after=st.text(max_size=50), number=st.integers(1, 999))
@example(secret="00.", before="", after="", number=1)  # the secret's dot is not the extension's
@example(secret="pw.txt", before="cat", after="", number=2)
def test_no_file_name_keeps_a_secret_or_its_cut_beginning(secret: str, before: str, after: str, number: int) -> None:
    form = re.sub(r"[^A-Za-z0-9._-]+", "-", secret).lower()
    command = f"{before} {secret} {after}"
    name = f"{number:03d}-{slugify(command, 60)}.txt"
    masked = Masker([secret]).name(name)
    stem = masked.lower()[: masked.lower().rfind(".txt")]
    for f in (form, form.strip("-._")):
        if len(f) >= 3:
            assert f not in stem, (secret, name, masked)
    assert not any(stem.endswith(form[:k]) for k in range(3, len(form))), (secret, name, masked)
    assert masked.endswith(".txt") and "/" not in masked


def test_step_file_name_and_partial_name_are_masked(tmp_path: Path) -> None:
    masker = Masker(["Linux-PW!9"])
    name = f"003-{slugify('grep Linux-PW!9 /etc/passwd', 60)}.txt"
    assert "linux-pw-9" in name
    sink = StepFile(tmp_path / name, masker=masker)
    sink.write(b"root:x:0:0 Linux-PW!9\n")
    partial = sink.keep_partial(2)
    assert partial.name == f"003-grep-{NAME_MASK}-etc-passwd.txt.partial.2"
    assert partial.read_bytes() == b"root:x:0:0 " + b"*" * 10 + b"\n"
    assert [p.name for p in tmp_path.iterdir()] == [partial.name]


def test_capture_lines_are_masked(tmp_path: Path) -> None:
    cf = CaptureFiles(tmp_path / "c", masker=Masker(["key-Secret7"]))
    cf.append(b"*Mar 1 00:00:01 OSPF auth key-Secret7 mismatch", 1.0, 1.0)
    cf.close()
    data = (tmp_path / "c" / "0001.log").read_bytes()
    assert data == b"*Mar 1 00:00:01 OSPF auth " + b"*" * 11 + b" mismatch\n"


def test_json_escaped_secret_is_masked_in_text() -> None:
    secret = 'pa"ss\\wörd'
    line = json.dumps({"command": f"echo {secret}"})
    assert json.dumps(secret)[1:-1] in line
    assert json.loads(Masker([secret]).text(line)) == {"command": "echo ********"}


def test_a_step_file_is_created_when_asked_or_at_the_first_byte(tmp_path: Path) -> None:
    """StepFile creates its file on open() (the runner calls it while the device answers) or at the first byte
    written; an empty output still ends as an empty file, and an attempt cut before anything leaves an empty
    partial; a file that cannot be created is a StoreError, never a missing partial."""
    from collector.errors import StoreError

    lazy = StepFile(tmp_path / "001-a.txt", masker=Masker([]))
    assert not lazy.tmp.exists()
    lazy.open()
    assert lazy.tmp.exists()
    assert lazy.finish().read_bytes() == b""
    cut = StepFile(tmp_path / "002-b.txt", masker=Masker([]))
    assert cut.keep_partial(1).read_bytes() == b"" and not cut.tmp.exists()
    nowhere = StepFile(tmp_path / "missing" / "003-c.txt", masker=Masker([]))
    with pytest.raises(StoreError):
        nowhere.write(b"x")
    with pytest.raises(StoreError):
        nowhere.keep_partial(1)
