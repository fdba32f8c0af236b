"""The sandbox's 国密 gateway (``--protocol tianjin``): its own SM3/SM4/padding against the SDK's
golden vectors, and every check of ``/openapi/api`` with requests signed here by hand (with
``cryptography``, not hlwjr's client), backed by the same store and verification log."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from hlwjr.sandbox._gateway import (
    GatewayError,
    NonceBook,
    RequestCheck,
    method_table,
    sm3_upper,
    sm4_decrypt,
    sm4_encrypt,
)

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"
KEY = bytes.fromhex(SECRET)
ENC_1 = "49a9a1cb6403aa7ca5d7be3287b0dc6b"
MD5_1 = "F7DCA75A3D6083A0E4FD0BA219FFE8AC10E35AE45FD8A91F90A9CDAB5A0ED056"
ENC_16 = "a9f4a4c761cf5110a2adbd8e1cdb79b025db47d12e40bf0803278053400e9f40"
SIGNATURE = "A07C0B67CE2996DF9416A5BE7EB7F4E8EAF40F31D46423A1FA9ECEA188C7627A"
EXAMPLES = Path(__file__).parents[1] / "lib" / "hlwjr" / "specs" / "beijing-reference" / "examples"


# -- golden vectors, sandbox side ------------------------------------------------------------


def test_sandbox_sm3_sm4_match_the_golden_vectors():
    assert sm3_upper(b"abc") == "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"
    assert sm4_encrypt(b"[1]", KEY) == ENC_1 and sm3_upper(ENC_1.encode()) == MD5_1
    assert sm4_encrypt(b"0123456789abcdef", KEY) == ENC_16
    assert sm4_decrypt(bytes.fromhex(ENC_16), KEY) == b"0123456789abcdef"
    assert sm4_decrypt(bytes.fromhex(ENC_1), KEY) == b"[1]"


def test_sandbox_accepts_the_sdk_example_signature():
    headers = {
        "X-Ca-Key": "ngari5fd5ad2196834aa7",
        "X-Ca-Nonce": "8d708068-0a36-47d3-8ff4-011fdace7d63",
        "X-Ca-Timestamp": "1718185594026",
        "X-Content-MD5": MD5_1,
        "X-Service-Id": "his.provinceDataUploadService",
        "X-Service-Method": "uploadDrugCatalogue",
        "X-Ca-Signature": SIGNATURE,
        "X-Ca-Signature-Headers": "x-ca-key,x-ca-nonce,x-ca-timestamp,x-content-md5,x-service-id,x-service-method",
    }
    check = RequestCheck(headers, ENC_1.encode())
    check.signature()  # no exception
    check.freshness(NonceBook(), now_ms=1718185594026 + 1000)
    assert check.records(SECRET) == [1]
    with pytest.raises(GatewayError) as e:
        RequestCheck({**headers, "X-Ca-Signature": SIGNATURE[:-1] + "B"}, ENC_1.encode()).signature()
    assert e.value.code == 40010


def test_wrong_key_is_40004_and_garbage_is_40001():
    check = RequestCheck({}, ENC_1.encode())
    with pytest.raises(GatewayError) as e:
        check.records("0" * 32)
    assert e.value.code == 40004
    with pytest.raises(GatewayError) as e:
        RequestCheck({}, b"[1]").records(SECRET)
    assert e.value.code == 40001


def test_methods_come_from_the_spec_aliases():
    from hlwjr.spec._load import load_spec

    table = method_table(load_spec(None))
    assert table["uploadRecipeIndicators"] == "recipe" and table["pushMedicalDispute"] == "complaint"
    assert table["uploadUnitIndicators"] == "unit"


# -- the gateway in-process ------------------------------------------------------------------


@pytest.fixture
def sandbox_settings():
    from hlwjr.sandbox import SandboxSettings

    return SandboxSettings(protocol="tianjin")


def sm3(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex().upper()


def encrypt(plain: bytes, secret: str) -> bytes:
    fill = 16 - len(plain) % 16
    e = Cipher(algorithms.SM4(bytes.fromhex(secret)), modes.CBC(bytes.fromhex("abcd0863ef9087ced675985321bedf67")))
    enc = e.encryptor()
    return (enc.update(plain + b"\x80" + b"\0" * (fill - 1)) + enc.finalize()).hex().encode()


def signed(appkey, body: bytes, method: str, *, ts_ms=None, nonce=None, tamper=None):
    h = {
        "X-Ca-Key": appkey,
        "X-Ca-Nonce": nonce or str(uuid.uuid4()),
        "X-Ca-Timestamp": str(int(ts_ms if ts_ms is not None else time.time() * 1000)),
        "X-Content-MD5": sm3(body),
        "X-Service-Id": "his.provinceDataUploadService",
        "X-Service-Method": method,
    }
    names = sorted(k.lower() for k in h)
    low = {k.lower(): v for k, v in h.items()}
    h["X-Ca-Signature"] = sm3("&".join(f"{n}:{low[n]}" for n in names).encode())
    h["X-Ca-Signature-Headers"] = ",".join(names)
    if tamper:
        h.update(tamper)
    return h


def post(client, creds, records, method="uploadUnitIndicators", *, secret=None, raw=None, **kw):
    body = raw if raw is not None else encrypt(json.dumps(records, ensure_ascii=False).encode(), secret or creds.secret)
    r = client.post("/openapi/api", content=body, headers=signed(creds.appid, body, method, **kw))
    assert r.status_code == 200
    return r.json()


def units():
    return json.loads((EXAMPLES / "unit.json").read_text(encoding="utf-8"))


def test_registered_secret_is_32_hex_and_its_gateway_copy_is_wrapped(sandbox_credentials, sandbox_dir):
    import os
    import stat

    assert len(sandbox_credentials.secret) == 32 and int(sandbox_credentials.secret, 16) >= 0
    key_file = Path(sandbox_dir) / "gateway.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert sandbox_credentials.secret not in key_file.read_text()


def test_accepted_records_land_in_the_same_store_and_verification_log(sandbox_client, sandbox_credentials, sandbox_app):
    answer = post(sandbox_client, sandbox_credentials, units()[:1])
    assert answer == {"code": 200, "msg": "请求成功", "body": {"msgCode": 200, "msg": "请求成功"}}
    service = sandbox_app.state.sandbox
    org = service.org(sandbox_credentials.appid)
    rows = service.verify_records(org, date=service.clock.today(), dataset="unit")
    assert rows["total"] == 1 and rows["records"][0]["status"] == "ok"
    # the platform does not de-duplicate: a repeat is answered 200 and shows as a duplicate in the log
    assert post(sandbox_client, sandbox_credentials, units()[:1])["body"]["msgCode"] == 200
    rows = service.verify_records(org, date=service.clock.today(), dataset="unit", status="duplicate")
    assert rows["total"] == 1


def test_minus_99_names_the_empty_fields_of_the_first_bad_record_and_stores_nothing(
    sandbox_client, sandbox_credentials, sandbox_app
):
    bad = copy.deepcopy(units()[0])  # unit's key is organID: one record per hospital
    bad.pop("organName")
    bad.pop("internetPermit")
    answer = post(sandbox_client, sandbox_credentials, [bad])
    assert answer["code"] == 200 and answer["body"]["msgCode"] == -99
    assert set(answer["body"]["msg"].split("|")) == {"organName", "internetPermit"}
    service = sandbox_app.state.sandbox
    org = service.org(sandbox_credentials.appid)
    rows = service.verify_records(org, date=service.clock.today(), dataset="unit", status="ok")
    assert rows["total"] == 0


def test_empty_array_is_the_daily_sign_in(sandbox_client, sandbox_credentials, sandbox_app):
    answer = post(sandbox_client, sandbox_credentials, [], "pushMedicalDispute")
    assert answer["body"] == {"msgCode": -98, "msg": "数据为空"}
    store = sandbox_app.state.sandbox.store
    assert store.sign_ins(sandbox_credentials.org_code)[0][1] == "complaint"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"secret": "0" * 32}, 40004),
        ({"ts_ms": time.time() * 1000 - 20 * 60 * 1000}, 40011),
        ({"tamper": {"X-Content-MD5": "0" * 64}}, 40010),
        ({"tamper": {"X-Ca-Signature": "0" * 64}}, 40010),
        ({"tamper": {"X-Ca-Signature-Headers": "x-ca-key"}}, 40010),
        ({"method": "uploadNothing"}, 40006),
        ({"raw": b"not hex at all"}, 40001),
    ],
)
def test_each_bad_request_gets_its_gateway_code(sandbox_client, sandbox_credentials, sandbox_app, kw, code):
    method = kw.pop("method", "uploadUnitIndicators")
    answer = post(sandbox_client, sandbox_credentials, units()[:1], method, **kw)
    assert answer["code"] == code and answer["msg"]
    service = sandbox_app.state.sandbox
    org = service.org(sandbox_credentials.appid)
    assert service.verify_records(org, date=service.clock.today(), dataset="unit")["total"] == 0


def test_unknown_appkey_and_replayed_nonce(sandbox_client, sandbox_credentials):
    body = encrypt(b"[]", sandbox_credentials.secret)
    r = sandbox_client.post("/openapi/api", content=body, headers=signed("nobody", body, "pushMedicalDispute"))
    assert r.json()["code"] == 40002
    h = signed(sandbox_credentials.appid, body, "pushMedicalDispute")
    assert sandbox_client.post("/openapi/api", content=body, headers=h).json()["code"] == 200
    again = sandbox_client.post("/openapi/api", content=body, headers=h).json()
    assert again["code"] == 40011 and "Nonce" in again["msg"]


def test_a_frozen_account_is_40003(sandbox_client, sandbox_credentials, sandbox_app):
    service = sandbox_app.state.sandbox
    service.store.set_active(sandbox_credentials.appid, False)
    service.forget_caches()
    assert post(sandbox_client, sandbox_credentials, units()[:1])["code"] == 40003


def test_file_upload_is_plain_json(sandbox_client, sandbox_credentials):
    body = json.dumps({"fileName": "a.pdf", "content": "AAAA"}).encode()
    h = signed(sandbox_credentials.appid, body, "uploadFile")
    assert sandbox_client.post("/openapi/api/uploadFile", content=body, headers=h).json()["body"]["msgCode"] == 200


def test_the_client_interoperates_in_process(sandbox_app, sandbox_credentials):
    from hlwjr import PlatformClient
    from hlwjr.sandbox import SyncASGITransport

    c = PlatformClient(
        "tianjin",
        "http://gw.test",
        sandbox_credentials.appid,
        sandbox_credentials.secret,
        transport=SyncASGITransport(sandbox_app),
    )
    recs = units()[:1]
    res = c.send_batch("unit", "B1", c.encode_batch("B1", [json.dumps(r, ensure_ascii=False) for r in recs]), 1)
    assert res.accepted == 1, res.message
    other = dict(recs[0], organID="91110108MA01AB12CN")
    res = c.send_batch("unit", "B2", c.encode_batch("B2", [json.dumps(other, ensure_ascii=False)]), 1)
    assert res.rejected == 1 and res.results[0].errors[0]["field"] == "organID"
    two = [json.dumps(recs[0], ensure_ascii=False), json.dumps(other, ensure_ascii=False)]
    res = c.send_batch("unit", "B3", c.encode_batch("B3", two), 2)
    # the second record is named: the first was refused with it and may go again (whole_batch)
    assert res.results[1].errors[0]["field"] == "organID"
    assert res.results[0].errors[0]["rule"] == "whole_batch"


def test_token_protocol_has_no_gateway(tmp_path):
    from hlwjr.sandbox import SyncASGITransport, create_app

    app = create_app(tmp_path / "sb")
    try:
        with httpx.Client(transport=SyncASGITransport(app), base_url="http://t") as c:
            assert c.post("/openapi/api", content=b"00").status_code == 404
    finally:
        app.state.sandbox.store.close()


@given(st.binary(max_size=200), st.binary(min_size=16, max_size=16))
def test_sandbox_and_client_ciphers_agree_on_any_input(data, key):
    """Two independent implementations (sandbox/_gateway.py, upload/profiles/_sm.py): same bytes."""
    from hlwjr.upload.profiles import sm4_cbc_decrypt_hex, sm4_cbc_encrypt_hex

    enc = sm4_encrypt(data, key)
    assert enc == sm4_cbc_encrypt_hex(data, key)
    assert sm4_decrypt(bytes.fromhex(enc), key) == data == sm4_cbc_decrypt_hex(enc, key)


def test_the_retired_hmac_mode_says_what_to_use():
    from hlwjr import ConfigError
    from hlwjr.upload._profile import PlatformProfile

    data = {"kind": "hlwjr/platform", "auth": {"mode": "signature"}, "upload": {"path": "/x"}, "response": {}}
    with pytest.raises(ConfigError, match="sm3-gateway"):
        PlatformProfile.from_dict(data)


def test_the_sandbox_gateway_does_not_import_the_client_signing_code():
    import ast

    import hlwjr.sandbox._gateway as gw

    tree = ast.parse(Path(gw.__file__).read_text(encoding="utf-8"))
    names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [n for n in names if "upload" in n or n.startswith("..")], names


def test_injected_busy_is_minus_1_and_retried_by_the_client(sandbox_app, sandbox_credentials):
    from hlwjr import PlatformClient
    from hlwjr.sandbox import SyncASGITransport

    sandbox_app.state.sandbox.faults.faults.update({"error_next": 2, "error_kind": "busy"})
    c = PlatformClient(
        "tianjin",
        "http://gw.test",
        sandbox_credentials.appid,
        sandbox_credentials.secret,
        transport=SyncASGITransport(sandbox_app),
        backoff_base=0.001,
    )
    recs = [json.dumps(units()[0], ensure_ascii=False)]
    res = c.send_batch("unit", "B1", c.encode_batch("B1", recs), 1)
    assert res.accepted == 1 and c.stats["retries"] == 2


@pytest.mark.parametrize(
    ("plain", "code"), [(b'[{"a": "\\ud800"}]', 40001), (b'[{"a": 1e309}]', None), (b"[" + b"9" * 401 + b"]", None)]
)
def test_decrypted_json_with_surrogates_or_huge_numbers(plain, code):
    check = RequestCheck({}, sm4_encrypt(plain, KEY).encode())
    if code is None:  # numbers of any size are read exactly (the engine words the problem)
        assert len(check.records(SECRET)) == 1
        return
    with pytest.raises(GatewayError) as e:
        check.records(SECRET)
    assert e.value.code == code and "代理码位" in e.value.msg
