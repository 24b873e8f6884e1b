import time

import jwt

from infrastructure.settings import Settings


def bearer(settings: Settings, business_ids=("biz_1",), roles=("staff",), subject="user_1", **claims) -> dict[str, str]:
    payload = {
        "sub": subject,
        # Tuples become lists; anything else is passed as given, to build malformed tokens.
        "business_ids": list(business_ids) if isinstance(business_ids, tuple) else business_ids,
        "roles": list(roles) if isinstance(roles, tuple) else roles,
        "exp": int(time.time()) + 600,
    }
    payload.update(claims)
    token = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}
