"""Static site, nbconvert exporter and offline support; case pages come from the server's own renderer."""

from readingroom.build.site import BuildReport, SitePlan, build, plan

__all__ = ["BuildReport", "SitePlan", "build", "plan"]
