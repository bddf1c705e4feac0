"""Pages of the placement path for each role: offers (browse, publish, apply),
applications (decide, withdraw), placements (agreement, signatures), and the public
page an e-mailed signing link opens. Every write goes through ``services``."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from companies.models import Sector
from courses.models import Competency
from courses.portfolio import portfolio_of
from school.http import AuthenticatedRequest, attempt, client_ip, valid_or_told
from school.models import Learner, Role, role_of
from school.pagination import page_of, status_page_of
from school.portal import Section

from . import services
from .follow_up import follow_up
from .forms import (
    AbsenceForm,
    ApplyForm,
    EvaluationForm,
    OfferForm,
    PlacementForm,
    ReasonForm,
    ScanForm,
    SlotFormSet,
    VisitForm,
)
from .models import (
    SIGNED_STATUSES,
    SIGNING_STATUSES,
    AgreementVersion,
    Application,
    ApplicationStatus,
    OfferStatus,
    Placement,
    PlacementOffer,
    PlacementStatus,
    Signature,
    TutorEvaluation,
    VersionStatus,
    Visit,
)

DECIDERS = (Role.STAFF, Role.PARTNER)
DECISIONS = ("withdraw", "review", "accept", "reject")


def _day(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def home_section(request: AuthenticatedRequest) -> Section | None:
    """On the home page: what waits for this user in the placement path."""
    user = request.user
    pending = pending_signatures(user)
    if role_of(user) == Role.PARTNER:
        offers = PlacementOffer.objects.visible_to(user).exclude(status=OfferStatus.CLOSED)
        applications = Application.objects.visible_to(user).filter(
            status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW]
        )
        return Section(
            "internships/home_section.html",
            {
                "offers": offers.select_related("company")[:10],
                "applications": applications.select_related("offer", "learner")[:10],
                "signatures": pending,
                "evaluations": [
                    evaluation
                    for evaluation in TutorEvaluation.objects.filter(
                        placement__tutor__user=user, submitted_at__isnull=True
                    ).select_related("placement__learner")
                    if evaluation.is_open
                ],
                "interns": _now_and_next(Placement.objects.visible_to(user)),
            },
        )
    if role_of(user) == Role.TRAINER:
        return Section(
            "internships/home_section.html",
            {"interns": _now_and_next(Placement.objects.filter(referent=user))},
        )
    if role_of(user) in (Role.LEARNER, Role.GUARDIAN):
        return Section(
            "internships/home_section.html",
            {
                "applications": Application.objects.visible_to(user).select_related(
                    "offer__company", "learner"
                )[:10],
                "placements": Placement.objects.visible_to(user)
                .current()
                .select_related("company", "learner")[:5],
                "signatures": pending,
                "offers_for_me": _offers_for(user) if role_of(user) == Role.LEARNER else [],
            },
        )
    if role_of(user) == Role.STAFF:
        return Section(
            "internships/home_section.html",
            {"signatures": pending, "follow_up": follow_up(timezone.localdate(), rows=10)},
        )
    return None


def _now_and_next(placements: Any) -> list[Placement]:
    """Placements under way or starting within two months: who is (or will be) where."""
    today = timezone.localdate()
    return list(
        placements.filter(
            status__in=SIGNED_STATUSES + SIGNING_STATUSES + (PlacementStatus.DRAFT,),
            end_date__gte=today,
            start_date__lte=today + datetime.timedelta(days=60),
        )
        .select_related("learner", "company")
        .order_by("start_date")[:10]
    )


def _offers_for(user: Any) -> list[PlacementOffer]:
    """Published offers still to come, those that aim at the learner's gaps first."""
    learner = Learner.objects.filter(user=user).first()
    if learner is None:
        return []
    gaps = [competency.pk for competency in portfolio_of(learner).gaps]
    offers = (
        PlacementOffer.objects.published()
        .filter(end_date__gte=timezone.localdate())
        .select_related("company")
        .annotate(matching=Count("competencies", filter=Q(competencies__in=gaps)))
        .order_by("-matching", "start_date")
    )
    return list(offers[:5])


def pending_signatures(user: Any) -> list[Signature]:
    return list(
        Signature.objects.pending()
        .signable_by(user)
        .filter(version__placement__in=Placement.objects.visible_to(user))
        .select_related("version__placement__learner", "version__placement__company")
        .order_by("version__created_at")[:20]
    )


@login_required
def placement_follow_up(request: AuthenticatedRequest) -> HttpResponse:
    """Staff: agreements waiting for signatures (who is missing), learners without a
    placement to come, learners short of their programme's required weeks."""
    if role_of(request.user) != Role.STAFF:
        raise Http404
    return render(
        request,
        "internships/follow_up.html",
        {"follow_up": follow_up(timezone.localdate())},
    )


# ---------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------


@login_required
def offer_list(request: AuthenticatedRequest) -> HttpResponse:
    offers = (
        PlacementOffer.objects.visible_to(request.user)
        .select_related("company")
        .with_places_taken()
        .order_by("start_date", "title", "pk")
    )
    if role_of(request.user) in (Role.LEARNER, Role.GUARDIAN):
        offers = offers.filter(status=OfferStatus.PUBLISHED)
    filters = {
        "secteur": request.GET.get("secteur", ""),
        "commune": request.GET.get("commune", "").strip(),
        "competence": request.GET.get("competence", ""),
        "du": request.GET.get("du", ""),
        "au": request.GET.get("au", ""),
    }
    if filters["secteur"]:
        offers = offers.filter(company__sector=filters["secteur"])
    if filters["commune"]:
        offers = offers.filter(city__icontains=filters["commune"])
    if filters["competence"].isdigit():
        offers = offers.filter(competencies=int(filters["competence"]))
    if first := _day(filters["du"]):
        offers = offers.filter(end_date__gte=first)
    if last := _day(filters["au"]):
        offers = offers.filter(start_date__lte=last)
    return render(
        request,
        "internships/offer_list.html",
        {
            **page_of(request, offers, **filters),
            "filters": filters,
            "sectors": Sector.choices,
            "competencies": Competency.objects.select_related("block").order_by(
                "block__code", "code"
            ),
            "may_create": role_of(request.user) in DECIDERS,
        },
    )


@login_required
def offer_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(
        PlacementOffer.objects.visible_to(request.user)
        .select_related("company")
        .prefetch_related("competencies"),
        pk=pk,
    )
    role = role_of(request.user)
    context: dict[str, Any] = {"offer": offer, "may_edit": offer.can_be_changed_by(request.user)}
    if role in DECIDERS:
        context["applications"] = offer.applications.select_related("learner").order_by(
            "created_at"
        )
    if role == Role.LEARNER:
        learner = Learner.objects.filter(user=request.user).first()
        context["mine"] = offer.applications.filter(learner=learner).first() if learner else None
        context["form"] = ApplyForm()
    return render(request, "internships/offer_detail.html", context)


@login_required
def offer_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    offer = None
    if pk is not None:
        # An offer the user sees but may not change answers 403; one they do not see, 404.
        offer = get_object_or_404(PlacementOffer.objects.visible_to(request.user), pk=pk)
        if not offer.can_be_changed_by(request.user):
            raise PermissionDenied
    elif role_of(request.user) not in DECIDERS:
        raise Http404
    form = OfferForm(request.POST or None, instance=offer, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                saved = form.save(commit=False)
                services.offer_places_hold(saved, saved.places)
                if saved.pk is None:
                    saved.created_by = request.user
                saved.save()
                form.save_m2m()
        except ValidationError as refusal:
            form.add_error(None, refusal)
        else:
            messages.success(request, _("Offre enregistrée."))
            return redirect("offer-detail", saved.pk)
    return render(request, "internships/offer_form.html", {"form": form, "offer": offer})


@require_POST
@login_required
def offer_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(PlacementOffer.objects.visible_to(request.user), pk=pk)
    if not offer.can_be_changed_by(request.user):
        raise PermissionDenied
    attempt(request, lambda: services.offer_publish(offer), _("Offre publiée."))
    return redirect("offer-detail", pk)


@require_POST
@login_required
def offer_apply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(PlacementOffer.objects.visible_to(request.user), pk=pk)
    if role_of(request.user) != Role.LEARNER:
        raise PermissionDenied
    learner = Learner.objects.filter(user=request.user).first()
    if learner is None:
        raise Http404
    form = ApplyForm(request.POST)
    if form.is_valid():
        attempt(
            request,
            lambda: services.application_submit(
                offer=offer, learner=learner, message=form.cleaned_data["message"]
            ),
            _("Candidature envoyée."),
        )
    return redirect("offer-detail", pk)


# ---------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------


@login_required
def application_list(request: AuthenticatedRequest) -> HttpResponse:
    applications = (
        Application.objects.visible_to(request.user)
        .select_related("offer__company", "learner", "placement")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "internships/application_list.html",
        status_page_of(request, applications, ApplicationStatus),
    )


@login_required
def application_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.visible_to(request.user).select_related(
            "offer__company", "learner", "decided_by"
        ),
        pk=pk,
    )
    role = role_of(request.user)
    return render(
        request,
        "internships/application_detail.html",
        {
            "application": application,
            "may_decide": role in DECIDERS and application.is_open,
            "may_withdraw": role == Role.LEARNER and application.is_open,
            "reason_form": ReasonForm(),
            "placement": Placement.objects.filter(application=application).first(),
        },
    )


@require_POST
@login_required
def application_decide(request: AuthenticatedRequest, pk: int, decision: str) -> HttpResponse:
    application = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    role = role_of(request.user)
    user = request.user
    if decision == "withdraw" and role == Role.LEARNER:
        attempt(
            request, lambda: services.application_withdraw(application), _("Candidature retirée.")
        )
    elif decision == "review" and role in DECIDERS:
        attempt(
            request,
            lambda: services.application_review(application, by=user),
            _("Candidature en cours d'examen."),
        )
    elif decision == "accept" and role in DECIDERS:
        attempt(
            request,
            lambda: services.application_accept(application, by=user),
            _("Candidature acceptée : le stage est créé en brouillon."),
        )
    elif decision == "reject" and role in DECIDERS:
        form = ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        attempt(
            request,
            lambda: services.application_reject(application, reason=reason, by=user),
            _("Candidature refusée."),
        )
    elif decision in DECISIONS:
        raise PermissionDenied
    else:
        raise Http404
    return redirect("application-detail", pk)


# ---------------------------------------------------------------------------------------
# Placements
# ---------------------------------------------------------------------------------------


def _placements(request: AuthenticatedRequest) -> Any:
    return Placement.objects.visible_to(request.user).select_related(
        "learner", "company", "tutor", "signatory", "referent"
    )


@login_required
def placement_list(request: AuthenticatedRequest) -> HttpResponse:
    placements = _placements(request).order_by("-start_date", "pk")
    return render(
        request,
        "internships/placement_list.html",
        status_page_of(request, placements, PlacementStatus),
    )


@login_required
def placement_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    placement = get_object_or_404(
        _placements(request).prefetch_related(
            "slots",
            "competencies",
            "absences",
            Prefetch("visits", Visit.objects.select_related("by")),
            Prefetch(
                "versions",
                AgreementVersion.objects.select_related("document").prefetch_related("signatures"),
            ),
        ),
        pk=pk,
    )
    evaluation = (
        TutorEvaluation.objects.filter(placement=placement)
        .prefetch_related("lines__competency")
        .first()
    )
    versions = list(placement.versions.all())
    current = next((v for v in versions if v.status == VersionStatus.TO_SIGN), None)
    mine = [
        signature
        for signature in (current.signatures.all() if current else [])
        if not signature.is_signed and services.may_sign(signature, request.user)
    ]
    return render(
        request,
        "internships/placement_detail.html",
        {
            "placement": placement,
            "evaluation": evaluation,
            "slots": list(placement.slots.all()),
            "versions": versions,
            "current": current,
            "mine": mine,
            "is_staff": role_of(request.user) == Role.STAFF,
            "may_edit": placement.is_editable and placement.can_be_changed_by(request.user),
            "reason_form": ReasonForm(),
            "scan_form": ScanForm(),
            "follows": _follows(placement, request.user),
            "visit_form": VisitForm(),
            "absence_form": AbsenceForm(),
        },
    )


@login_required
def placement_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    placement = get_object_or_404(_placements(request), pk=pk)
    if not placement.can_be_changed_by(request.user):
        raise PermissionDenied
    initial = [
        {"weekday": s.weekday, "start_time": s.start_time, "end_time": s.end_time}
        for s in placement.slots.all()
    ]
    # The learner's gaps (competencies neither acquired nor mastered) are what the
    # annexe pédagogique should aim at: suggested when it is still empty.
    gaps = portfolio_of(placement.learner).gaps
    form = PlacementForm(
        request.POST or None,
        instance=placement,
        initial={} if placement.competencies.exists() else {"competencies": gaps},
    )
    slots = SlotFormSet(request.POST or None, initial=initial, prefix="slots")
    if request.method == "POST" and form.is_valid() and slots.is_valid():
        changed = form.save(commit=False)
        rows = [
            {name: row[name] for name in ("weekday", "start_time", "end_time")}
            for row in slots.cleaned_data
            if row and not row.get("DELETE")
        ]
        if attempt(
            request,
            lambda: services.placement_save(
                changed,
                slots=rows,
                competencies=form.cleaned_data["competencies"],
                by=request.user,
            ),
            _("Stage enregistré."),
        ):
            return redirect("placement-detail", pk)
    return render(
        request,
        "internships/placement_form.html",
        {"form": form, "slots": slots, "placement": placement, "gaps": gaps},
    )


@require_POST
@login_required
def placement_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    placement = get_object_or_404(_placements(request), pk=pk)
    user = request.user
    if action not in (*FOLLOW_UP_ACTIONS, *STAFF_ACTIONS):
        raise Http404
    if action in FOLLOW_UP_ACTIONS and _follows(placement, user):
        return _record_follow_up(request, placement, action)
    if role_of(user) != Role.STAFF:
        raise PermissionDenied
    if action == "ready":
        attempt(
            request,
            lambda: services.placement_freeze(placement, by=user),
            _("Convention prête à signer : les signataires sont prévenus."),
        )
    elif action == "amend":
        attempt(
            request,
            lambda: services.placement_amend(placement, by=user),
            _("Avenant ouvert : modifiez le stage puis rendez-le prêt à signer."),
        )
    elif action == "cancel":
        form = ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        attempt(
            request,
            lambda: services.placement_cancel(placement, reason=reason, by=user),
            _("Stage annulé."),
        )
    elif action == "evaluation":
        attempt(
            request,
            lambda: services.evaluation_request(placement),
            _("Lien d'évaluation envoyé au tuteur."),
        )
    elif action == "revoke-evaluation":
        evaluation = get_object_or_404(TutorEvaluation, placement=placement)
        attempt(
            request,
            lambda: services.evaluation_revoke(evaluation),
            _("Lien d'évaluation révoqué."),
        )
    elif action == "paper":
        upload = ScanForm(request.POST, request.FILES)
        if not upload.is_valid():
            messages.error(request, _("Joignez la copie signée numérisée."))
        else:
            signature = get_object_or_404(
                Signature, pk=upload.cleaned_data["signature"], version__placement=placement
            )
            attempt(
                request,
                lambda: services.signature_record_paper(
                    signature, scan=upload.cleaned_data["scan"], by=user
                ),
                _("Signature papier enregistrée."),
            )
    return redirect("placement-detail", pk)


FOLLOW_UP_ACTIONS = ("visit", "absence")
STAFF_ACTIONS = ("ready", "amend", "cancel", "evaluation", "revoke-evaluation", "paper")


def _follows(placement: Placement, user: Any) -> bool:
    """The staff and the placement's school referent record its visits and absences."""
    return role_of(user) == Role.STAFF or placement.referent_id == user.pk


def _record_follow_up(
    request: AuthenticatedRequest, placement: Placement, action: str
) -> HttpResponse:
    form: VisitForm | AbsenceForm = (
        VisitForm(request.POST) if action == "visit" else AbsenceForm(request.POST)
    )
    form.instance.placement = placement
    if valid_or_told(request, form) and _no_clash(request, form):
        record = form.save(commit=False)
        if isinstance(record, Visit):
            record.by = request.user
        else:
            record.recorded_by = request.user
        record.save()
        messages.success(request, _("Suivi enregistré."))
    return redirect("placement-detail", placement.pk)


def _no_clash(request: HttpRequest, form: VisitForm | AbsenceForm) -> bool:
    """The model's constraints once the placement is set (one absence line a day): the
    form left them out, the placement not being one of its fields."""
    try:
        form.instance.validate_constraints()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    return True


@require_POST
@login_required
def placement_sign(request: AuthenticatedRequest, pk: int, signature_pk: int) -> HttpResponse:
    placement = get_object_or_404(_placements(request), pk=pk)
    signature = get_object_or_404(Signature, pk=signature_pk, version__placement=placement)
    attempt(
        request,
        lambda: services.signature_sign(
            signature,
            by=request.user,
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        ),
        _("Convention signée. Merci."),
    )
    return redirect("placement-detail", pk)


# ---------------------------------------------------------------------------------------
# The e-mailed single-use link: no account needed, 404 once used, expired or voided.
# ---------------------------------------------------------------------------------------


@never_cache
def sign_link(request: HttpRequest, token: str) -> HttpResponse:
    signature = services.signature_for_link(token)
    if signature is None:
        raise Http404
    if request.method == "POST":
        if request.POST.get("consent") != "yes":
            messages.error(request, _("Cochez la case pour confirmer votre signature."))
        elif attempt(
            request,
            lambda: services.signature_sign_with_link(
                token,
                ip_address=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            ),
            _("Votre signature est enregistrée. Merci."),
        ):
            return render(request, "internships/sign_done.html", {"signature": signature})
    return render(request, "internships/sign_link.html", {"signature": signature, "token": token})


@never_cache
def sign_link_pdf(request: HttpRequest, token: str) -> FileResponse:
    """The exact PDF the link signs, for its signer to read before signing."""
    signature = services.signature_for_link(token)
    if signature is None:
        raise Http404
    document = signature.version.document
    return FileResponse(
        document.file.open("rb"),
        filename=f"convention-{document.number}.pdf",
        content_type="application/pdf",
    )


# ---------------------------------------------------------------------------------------
# The tutor's evaluation link: no account, phone first, 404 once used, revoked or expired.
# ---------------------------------------------------------------------------------------


@never_cache
def evaluation_link(request: HttpRequest, token: str) -> HttpResponse:
    evaluation = services.evaluation_for_link(token)
    if evaluation is None:
        raise Http404
    return _evaluation_form(request, evaluation)


@login_required
def evaluation_from_account(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The tutor with a partner account fills the same form without the link."""
    placement = get_object_or_404(_placements(request), pk=pk, tutor__user=request.user)
    evaluation = TutorEvaluation.objects.filter(placement=placement).first()
    if evaluation is None or not evaluation.is_open:
        raise Http404
    return _evaluation_form(request, evaluation)


def _evaluation_form(request: HttpRequest, evaluation: TutorEvaluation) -> HttpResponse:
    placement = evaluation.placement
    competencies = list(placement.competencies.order_by("block__code", "code"))
    tutor = placement.tutor
    form = EvaluationForm(
        request.POST or None,
        competencies=competencies,
        initial={"tutor_name": f"{tutor.first_name} {tutor.last_name}" if tutor else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if attempt(
            request,
            lambda: services.evaluation_record(
                evaluation,
                levels=form.levels(),
                tutor_name=data["tutor_name"],
                absence_days=data["absence_days"],
                attendance=data["attendance"],
                comments=data["comments"],
            ),
            _("Évaluation enregistrée. Merci pour votre accompagnement."),
        ):
            return render(request, "internships/evaluation_done.html", {"placement": placement})
    return render(
        request, "internships/evaluation_form.html", {"form": form, "placement": placement}
    )
