"""Validation of API objects, with apimachinery's exact field-error text."""
