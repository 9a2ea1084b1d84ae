# SPDX-License-Identifier: Apache-2.0
"""Test helpers (servers and fakes) for the end-to-end tests."""
