"""Security profiles (安全方案) of the platform profiles: the request signing (``auth.mode``) and
the body codec (``body.codec``) a profile YAML picks.  Adding a province is a YAML file plus, at
most, one small class here.
"""

from __future__ import annotations

from ._auth import HmacGatewayAuth, Sm3GatewayAuth, signed_headers
from ._codecs import CODECS, AesEcbBase64Codec, JsonCodec, Sm4CbcHexCodec, aes_body_key, body_codec, missing_body_key
from ._signed import SignedHeadersAuth, check_signed_headers
from ._sm import gateway_key, sm3_hex, sm4_cbc_decrypt_hex, sm4_cbc_encrypt_hex

__all__ = [
    "AUTH_MODES",
    "CODECS",
    "SIGNING",
    "AesEcbBase64Codec",
    "HmacGatewayAuth",
    "JsonCodec",
    "SignedHeadersAuth",
    "Sm3GatewayAuth",
    "Sm4CbcHexCodec",
    "aes_body_key",
    "body_codec",
    "check_signed_headers",
    "gateway_key",
    "missing_body_key",
    "signed_headers",
    "sm3_hex",
    "sm4_cbc_decrypt_hex",
    "sm4_cbc_encrypt_hex",
]

#: ``auth.mode`` → the signing of the modes without a token: ``sm3-gateway``, ``hmac-gateway``
#: (the same gateway before 国密), ``signed-headers`` (a signature template)
SIGNING = {"sm3-gateway": Sm3GatewayAuth, "hmac-gateway": HmacGatewayAuth, "signed-headers": SignedHeadersAuth}
#: ``auth.mode`` values; ``token`` is :class:`~hlwjr.upload._client.TokenAuth` (it lives with the
#: client, whose answer classification it shares)
AUTH_MODES = ("token", *SIGNING)
