"""The client's 国密 security profile against the official SDK's golden vectors (GB/T 32905 SM3,
SM4-CBC with the gateway's IV and ISO/IEC 7816-4 padding, X-Content-MD5, X-Ca-Signature)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hlwjr import ConfigError
from hlwjr.upload._profile import PlatformProfile
from hlwjr.upload.profiles import Sm3GatewayAuth, Sm4CbcHexCodec, gateway_key, signed_headers, sm3_hex
from hlwjr.upload.profiles._sm import pad_7816, sm4_cbc_decrypt_hex, sm4_cbc_encrypt_hex, unpad_7816

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"
KEY = bytes.fromhex(SECRET)
SM3_ABC = "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"
ENC_1 = "49a9a1cb6403aa7ca5d7be3287b0dc6b"
MD5_1 = "F7DCA75A3D6083A0E4FD0BA219FFE8AC10E35AE45FD8A91F90A9CDAB5A0ED056"
ENC_16 = "a9f4a4c761cf5110a2adbd8e1cdb79b025db47d12e40bf0803278053400e9f40"
SIGNATURE = "A07C0B67CE2996DF9416A5BE7EB7F4E8EAF40F31D46423A1FA9ECEA188C7627A"
APPKEY, NONCE, TS = "ngari5fd5ad2196834aa7", "8d708068-0a36-47d3-8ff4-011fdace7d63", 1718185594026


def test_sm3_abc_is_the_gbt32905_vector():
    assert sm3_hex("abc") == SM3_ABC == sm3_hex(b"abc")


def test_sm4_cbc_of_a_short_array():
    assert sm4_cbc_encrypt_hex(b"[1]", KEY) == ENC_1
    assert sm4_cbc_decrypt_hex(ENC_1, KEY) == b"[1]"


def test_x_content_md5_is_sm3_of_the_hex_body():
    assert sm3_hex(ENC_1) == MD5_1


def test_sixteen_bytes_get_a_whole_padding_block():
    enc = sm4_cbc_encrypt_hex(b"0123456789abcdef", KEY)
    assert enc == ENC_16 and len(enc) == 64
    assert sm4_cbc_decrypt_hex(ENC_16, KEY) == b"0123456789abcdef"


def _golden_request(profile, path="/openapi/api"):
    auth = Sm3GatewayAuth(profile, APPKEY, SECRET, clock=lambda: TS / 1000, nonce=lambda: NONCE)
    request = httpx.Request(
        "POST",
        "http://gw.test" + path,
        content=ENC_1.encode(),
        headers={"X-Service-Id": "his.provinceDataUploadService", "X-Service-Method": "uploadDrugCatalogue"},
    )
    auth.sign(request)
    return request


def test_signature_of_the_sdk_example():
    request = _golden_request(PlatformProfile.load("tianjin"))
    h = request.headers
    assert h["X-Content-MD5"] == MD5_1 and h["X-Ca-Timestamp"] == str(TS) and h["X-Ca-Nonce"] == NONCE
    assert h["X-Ca-Signature"] == SIGNATURE
    assert h["X-Ca-Signature-Headers"] == (
        "x-ca-key,x-ca-nonce,x-ca-timestamp,x-content-md5,x-service-id,x-service-method"
    )


def test_string_to_sign_takes_every_x_ca_header_sorted():
    sts, names = signed_headers({"X-Ca-Key": "k", "X-Ca-Zeta": "z", "X-Content-MD5": "M", "Accept": "x"})
    assert sts == "x-ca-key:k&x-ca-zeta:z&x-content-md5:M" and names == "x-ca-key,x-ca-zeta,x-content-md5"


def test_each_request_gets_a_fresh_nonce():
    auth = Sm3GatewayAuth(PlatformProfile.load("tianjin"), APPKEY, SECRET)
    a, b = (httpx.Request("POST", "http://gw.test/openapi/api", content=b"00") for _ in range(2))
    auth.sign(a)
    auth.sign(b)
    assert a.headers["X-Ca-Nonce"] != b.headers["X-Ca-Nonce"]
    assert len(a.headers["X-Ca-Nonce"]) == 36


@pytest.mark.parametrize("bad", ["", "short", SECRET + "0", SECRET[:-1] + "g", "bbf1dd18-8b8b-4629-853f-06f118d11e4a"])
def test_a_secret_that_is_not_32_hex_is_a_config_error_without_the_secret(bad):
    with pytest.raises(ConfigError, match="32 位十六进制") as e:
        gateway_key(bad)
    if len(bad) > 4:
        assert bad not in str(e.value)


def test_codec_round_trip_and_repr_hides_the_key():
    codec = Sm4CbcHexCodec(SECRET)
    assert codec.encode(b"[1]") == ENC_1.encode() and codec.decode(ENC_1.encode()) == b"[1]"
    assert SECRET not in repr(codec)


@given(st.binary(max_size=100))
def test_padding_round_trips_and_always_adds_one_to_sixteen_bytes(data):
    padded = pad_7816(data)
    assert len(padded) % 16 == 0 and 1 <= len(padded) - len(data) <= 16
    assert unpad_7816(padded) == data


@given(st.binary(max_size=200))
def test_sm4_round_trips_any_bytes(data):
    assert sm4_cbc_decrypt_hex(sm4_cbc_encrypt_hex(data, KEY), KEY) == data


@pytest.mark.parametrize("bad", [b"", b"\x00" * 16, b"abc" + b"\x00" * 13, b"\x80" + b"\x00" * 16])
def test_bad_padding_is_refused(bad):
    with pytest.raises(ValueError):
        unpad_7816(bad)
