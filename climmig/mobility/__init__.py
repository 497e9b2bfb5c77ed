"""Shared by the displacement and migration models: fitting, diagnostics, priors, scoring, CRN draws, covariates,
observed hazard intensity."""
