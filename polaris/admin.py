"""Django admin for assets, transactions and their status history, and payouts.

The distribution seed is write-only: the form accepts a new seed and never renders the stored one.
Status edits go through the same transition check as the engine and are recorded as ``admin:<username>``.
Payouts are the engine's rows and read-only here; the one thing a person does with them is release a parked
one for one more execution, after a confirmation page (``release_parked_payout``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from stellar_sdk import Keypair

from polaris.engine.payouts import PayoutReleaseRefused, release_parked_payout
from polaris.engine.transitions import STATUSES_BY_KIND, acting_as, is_allowed
from polaris.models import (
    Asset,
    DeliveryMethod,
    ExchangePair,
    OffChainAsset,
    Payout,
    PayoutRelease,
    Quote,
    Transaction,
    TransactionStatusChange,
)


def admin_actor(request) -> str:
    """Who a change made in the admin is recorded as."""
    return f"admin:{request.user.get_username()}"


class AssetForm(forms.ModelForm):
    distribution_seed = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the current seed. Setting it sets the distribution account.",
    )

    class Meta:
        model = Asset
        exclude = ["encrypted_distribution_seed"]

    def clean_distribution_seed(self):
        seed = self.cleaned_data["distribution_seed"].strip()
        if seed:
            try:
                Keypair.from_secret(seed)
            except Exception:
                raise forms.ValidationError("not a valid Stellar secret seed") from None
        return seed

    def save(self, commit=True):
        if self.cleaned_data.get("distribution_seed"):
            self.instance.distribution_seed = self.cleaned_data["distribution_seed"]
        return super().save(commit)


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    form = AssetForm
    list_display = ["code", "issuer", "distribution_account", "sep6_enabled", "sep24_enabled", "sep31_enabled"]
    search_fields = ["code", "issuer", "distribution_account"]


class AuditInline(admin.TabularInline):
    """Rows of an append-only record: shown, never added or deleted here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(AuditInline):
    model = TransactionStatusChange
    fields = readonly_fields = ["at", "from_status", "to_status", "actor", "reason"]
    ordering = ["at", "id"]


class TransactionForm(forms.ModelForm):
    class Meta:
        model = Transaction
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind", self.instance.kind)
        status = cleaned.get("status")
        before = self.initial.get("status") if self.instance.pk else None
        if status and status not in STATUSES_BY_KIND.get(kind, ()):
            self.add_error("status", f"a {kind} transaction never has status {status}")
        elif status and before and status != before and not is_allowed(kind, before, status):
            self.add_error("status", f"{before} -> {status} is not allowed for a {kind} transaction")
        return cleaned


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    form = TransactionForm
    inlines = [StatusChangeInline]
    list_display = ["id", "kind", "status", "asset", "amount_in", "amount_out", "started_at", "updated_at"]
    list_filter = ["kind", "status", "protocol", "asset"]
    search_fields = ["=id", "stellar_account", "memo", "=stellar_transaction_id", "external_transaction_id"]
    readonly_fields = ["started_at", "updated_at", "completed_at"]

    def save_model(self, request, obj, form, change):
        with acting_as(admin_actor(request), reason="edited in the admin"):
            obj.save()


class PayoutReleaseInline(AuditInline):
    model = PayoutRelease
    fields = readonly_fields = [
        "released_at", "released_by", "parked_error", "parked_worker", "parked_started_at", "parked_at"
    ]  # fmt: skip
    ordering = ["released_at", "id"]


class ReleaseConfirmationForm(forms.Form):
    bank_has_no_payment = forms.BooleanField(
        label="The bank has no payment for these transactions",
        error_messages={"required": "Nothing was released: first check at the bank, then tick this box."},
    )


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = ["transaction", "state", "queued_at", "started_at", "finished_at", "error"]
    list_filter = ["state"]
    search_fields = ["=transaction__id"]
    inlines = [PayoutReleaseInline]
    actions = ["release_parked"]

    # Editing a payout by hand would bypass the claims that keep each payout executed at most once.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_release_permission(self, request) -> bool:
        return request.user.has_perm("polaris.change_payout")

    @admin.action(description="Release parked payouts for one more execution", permissions=["release"])
    def release_parked(self, request, queryset):
        """First a confirmation page; once the operator ticked that the bank has no payment, one release
        per payout, each reported (refusals too). Returning None shows the change list again."""
        confirmation = ReleaseConfirmationForm(request.POST if request.POST.get("post") else None)
        if not confirmation.is_valid():
            return TemplateResponse(request, "admin/polaris/payout/release_parked_confirmation.html", {
                **self.admin_site.each_context(request),
                "title": "Release parked payouts for one more execution",
                "opts": self.opts,
                "payouts": queryset.order_by("queued_at", "id"),
                "form": confirmation,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            })  # fmt: skip
        for payout in queryset.order_by("queued_at", "id"):
            try:
                transaction = release_parked_payout(
                    payout.transaction_id, operator=admin_actor(request),
                    bank_did_not_pay=confirmation.cleaned_data["bank_has_no_payment"],
                )  # fmt: skip
            except PayoutReleaseRefused as refusal:
                self.message_user(request, f"Not released: {refusal}", messages.ERROR)
            else:
                self.message_user(
                    request, f"Released the payout of {transaction.id}: queued, transaction {transaction.status}",
                    messages.SUCCESS,
                )  # fmt: skip
        return None


admin.site.register([Quote, OffChainAsset, DeliveryMethod, ExchangePair])
