from __future__ import annotations

from django.contrib import admin

from .models import Competency, CompetencyBlock


class CompetencyInline(admin.TabularInline):
    model = Competency
    extra = 0


@admin.register(CompetencyBlock)
class CompetencyBlockAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme"]
    list_filter = ["programme"]
    search_fields = ["code", "title"]
    inlines = [CompetencyInline]


@admin.register(Competency)
class CompetencyAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "block"]
    list_filter = ["block__programme"]
    search_fields = ["code", "title"]
    list_select_related = ["block"]
