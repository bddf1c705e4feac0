"""The second factor of staff and trainers: a TOTP code (django-otp) after the password.

Staff and trainers see minors' data in bulk and sign the school's documents; a stolen
password alone must not open that. Until they have entered a code in this browser
session they reach nothing but the pages that enrol an authenticator app or ask for its
code (and log out). Learners, guardians and partners are not asked: they see one
person's or one company's data, and a school cannot hand every parent an app.

API tokens are per person, not per browser session: the token endpoint asks staff and
trainers who have enrolled for a current code too (``token_needs_code``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .http import AuthenticatedRequest
from .models import Role, User

SECOND_FACTOR_ROLES = frozenset({Role.STAFF, Role.TRAINER})


def needs_second_factor(user: object) -> bool:
    """Whether this account must prove a second factor (staff, trainers, superusers)."""
    if not isinstance(user, User):  # AnonymousUser, or no user at all
        return False
    return user.role in SECOND_FACTOR_ROLES or user.is_superuser


def verified(user: object) -> bool:
    """Whether this browser session has passed the second factor (OTPMiddleware's mark)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def token_needs_code(user: User) -> bool:
    """The token endpoint asks for a code once the account has an enrolled device."""
    return needs_second_factor(user) and user_has_device(user, confirmed=True)


def code_is_valid(user: User, code: str) -> TOTPDevice | None:
    """The confirmed device that accepts this code; each code opens once (django-otp
    remembers the last time step used); a throttled device accepts none."""
    code = code.replace(" ", "")
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice) and device.verify_token(code):
            return device
    return None


def throttled(device: TOTPDevice | None) -> bool:
    """Whether the device makes the person wait after wrong codes (each one doubles the
    wait, ``OTP_TOTP_THROTTLE_FACTOR``): six digits are out of a guesser's reach."""
    return device is not None and not device.verify_is_allowed()[0]


TOO_FAST = gettext_lazy("Trop d'essais : attendez quelques secondes avant de réessayer.")


def exempt(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view reachable before the second factor (the factor's own pages, logout)."""
    view.second_factor_exempt = True  # type: ignore[attr-defined]
    return view


class SecondFactorMiddleware:
    """Send staff and trainers without a verified code to enrol or to enter it.

    After ``django_otp.middleware.OTPMiddleware``, which sets ``user.is_verified()``.
    Token-authenticated API calls reach DRF as anonymous here and are checked when the
    token is handed out; an unverified browser session calling the API gets a 403.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        user = request.user
        if not needs_second_factor(user) or getattr(view, "second_factor_exempt", False):
            return None
        if verified(user):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "detail": _(
                        "Double authentification requise : saisissez votre code sur le site."
                    )
                },
                status=403,
            )
        target = "two-factor-verify" if user_has_device(user) else "two-factor-enrol"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code à 6 chiffres"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else reverse("home")


def _login_first(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if not needs_second_factor(request.user) or verified(request.user):
        return redirect(_next(request))
    return None


@exempt
@never_cache
def enrol(request: AuthenticatedRequest) -> HttpResponse:
    """First sign-in of a staff member or trainer: scan the QR code, type the code shown."""
    if (refused := _login_first(request)) is not None:
        return refused
    user = request.user
    if user_has_device(user, confirmed=True):
        return redirect(f"{reverse('two-factor-verify')}?{urlencode({'next': _next(request)})}")
    # One pending device per account, kept across reloads so the scanned code stays good.
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": _("Application d'authentification")}
    )
    form = CodeForm(request.POST or None)
    if form.is_valid():
        if throttled(device):
            form.add_error("code", TOO_FAST)
        elif device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        else:
            form.add_error("code", _("Ce code ne correspond pas. Vérifiez l'heure du téléphone."))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5)
    return render(
        request,
        "registration/two_factor_enrol.html",
        {"form": form, "qr_svg": qr_svg, "key": _spaced(device), "next": _next(request)},
    )


def _spaced(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@exempt
@never_cache
def verify(request: AuthenticatedRequest) -> HttpResponse:
    """Each sign-in of an enrolled staff member or trainer: the code of the moment."""
    if (refused := _login_first(request)) is not None:
        return refused
    if not user_has_device(request.user, confirmed=True):
        return redirect(f"{reverse('two-factor-enrol')}?{urlencode({'next': _next(request)})}")
    form = CodeForm(request.POST or None)
    if form.is_valid():
        enrolled = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
        if throttled(enrolled):
            form.add_error("code", TOO_FAST)
        elif (device := code_is_valid(request.user, form.cleaned_data["code"])) is not None:
            otp_login(request, device)
            return redirect(_next(request))
        else:
            form.add_error("code", _("Code incorrect ou déjà utilisé."))
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}
    )
