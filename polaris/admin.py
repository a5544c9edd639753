"""Django admin for assets, transactions and their status history.

The distribution seed is write-only: the form accepts a new seed and never renders the stored one.
Status edits go through the same transition check as the engine and are recorded as ``admin:<username>``.
"""

from django import forms
from django.contrib import admin
from stellar_sdk import Keypair

from polaris.engine.transitions import STATUSES_BY_KIND, acting_as, is_allowed
from polaris.models import (
    Asset,
    DeliveryMethod,
    ExchangePair,
    OffChainAsset,
    Quote,
    Transaction,
    TransactionStatusChange,
)


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


class StatusChangeInline(admin.TabularInline):
    model = TransactionStatusChange
    fields = readonly_fields = ["at", "from_status", "to_status", "actor", "reason"]
    ordering = ["at", "id"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
        with acting_as(f"admin:{request.user.get_username()}", reason="edited in the admin"):
            obj.save()


admin.site.register([Quote, OffChainAsset, DeliveryMethod, ExchangePair])
