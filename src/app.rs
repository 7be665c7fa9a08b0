//! The HTML shell, the top-level providers and the route table.

use leptos::prelude::*;
use leptos::tachys::prelude::IntoMaybeErased;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{ChooseView, NestedRoute, PossibleRouteMatch, SsrMode, path};

use crate::accounts::pages::{
    AccountNav, LoginPage, MePage, PasswordResetPage, SignupPage, UserPage, VerifyEmailPage, provide_session,
};
use crate::admin::pages::{AdminAttendeesPage, AdminEventPage, AdminGroupPage, AdminNewEventPage, AdminPage};
use crate::events::pages::{EventPage, HomePage};
use crate::groups::pages::GroupPage;
use crate::i18n::*;
use crate::registrations::pages::{ParticipantsPage, ReceiptPage};
use crate::search::pages::SearchPage;
use crate::tags::pages::{TagPage, TagsPage};
use crate::ui::NotFound;

/// The document around the app; `<html lang>` is set by the i18n provider.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::csp::record_page_nonce();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: i18n and meta context, header, routes, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session();
    provide_site_origin();
    // The server never writes the language cookie from the i18n layer: `?lang=` sets it in
    // `server::lang`, and the browser when the visitor switches. The layer's own server-side
    // write runs from an effect after rendering; once (under concurrent requests) a page got
    // `i18n_pref_locale=en` that its visitor never chose, so that write is switched off.
    let cookie_options = leptos_i18n::context::CookieOptions::<Locale>::default().ssr_set_cookie(|_| {});
    view! {
        <I18nContextProvider cookie_options>
            <Stylesheet id="tsudoi" href="/pkg/tsudoi.css" />
            <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
            <Link rel="alternate" type_="application/atom+xml" title="Tsudoi" href="/feed.atom" />
            <Meta name="color-scheme" content="light" />
            <Title formatter=|text: String| {
                let title = if text.is_empty() { "Tsudoi".to_string() } else { format!("{text} | Tsudoi") };
                title_text(title)
            } />
            <Router>
                <SiteHeader />
                <main id="main" class="page">
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Page path=path!("/") view=HomePage />
                        <Page path=path!("/events") view=SearchPage />
                        <Page path=path!("/events/:id") view=EventPage />
                        <Page path=path!("/groups/:slug") view=GroupPage />
                        <Page path=path!("/tags") view=TagsPage />
                        <Page path=path!("/tags/:slug") view=TagPage />
                        <Page path=path!("/events/:id/receipt") view=ReceiptPage />
                        <Page path=path!("/events/:id/participants") view=ParticipantsPage />
                        <Page path=path!("/events/:id/cant-go") view=crate::messages::pages::CantGoPage />
                        <Page path=path!("/events/:id/reconfirm") view=crate::messages::pages::ReconfirmPage />
                        <Page path=path!("/login") view=LoginPage />
                        <Page path=path!("/password-reset") view=PasswordResetPage />
                        <Page path=path!("/verify-email") view=VerifyEmailPage />
                        <Page path=path!("/signup") view=SignupPage />
                        <Page path=path!("/me") view=MePage />
                        <Page path=path!("/admin") view=AdminPage />
                        <Page path=path!("/admin/events/new") view=AdminNewEventPage />
                        <Page path=path!("/admin/moderation") view=crate::moderation::pages::ModerationPage />
                        <Page path=path!("/admin/groups/:id") view=AdminGroupPage />
                        <Page path=path!("/admin/events/:id") view=AdminEventPage />
                        <Page path=path!("/admin/events/:id/attendees") view=AdminAttendeesPage />
                        <Page path=path!("/users/:nickname") view=UserPage />
                    </Routes>
                </main>
                <SiteFooter />
            </Router>
        </I18nContextProvider>
    }
}

/// A route of the site. Every page waits for its data on the server (`SsrMode::Async`),
/// so it works without JavaScript and answers with its real status (a missing event is a
/// 404).
#[component(transparent)]
fn Page<Segments, View>(path: Segments, view: View) -> <NestedRoute<Segments, (), (), View> as IntoMaybeErased>::Output
where
    View: ChooseView + Clone + 'static,
    Segments: PossibleRouteMatch + Clone + Send + 'static,
{
    NestedRoute::new(path, view).ssr_mode(SsrMode::Async).into_maybe_erased()
}

#[component]
fn SiteHeader() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    // A full page load on purpose (rel=external): the server sets the cookie and renders
    // the page in the other language, which also works without JavaScript.
    let switch_href = move || {
        let other = match i18n.get_locale() {
            Locale::ja => "en",
            Locale::en => "ja",
        };
        let path = location.pathname.get();
        // On the search page `lang` filters events by language, so the switch uses `hl`.
        let key = if path == "/events" { "hl" } else { "lang" };
        let query: Vec<String> = location
            .query
            .get()
            .into_iter()
            .filter(|(k, _)| k != key && k != "hl")
            .map(|(k, v)| format!("{}={}", urlencoding::encode(&k), urlencoding::encode(&v)))
            .collect();
        if query.is_empty() {
            format!("{path}?{key}={other}")
        } else {
            format!("{path}?{}&{key}={other}", query.join("&"))
        }
    };
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <div class="site-header__inner">
                <A href="/" attr:class="brand">
                    <span class="brand__mark" aria-hidden="true">
                        "集"
                    </span>
                    <span class="brand__name">{t!(i18n, site_name)}</span>
                </A>
                <nav class="site-nav" aria-label="Main">
                    <A href="/events">{t!(i18n, nav_events)}</A>
                    <A href="/tags">{t!(i18n, nav_tags)}</A>
                    <a
                        href=switch_href
                        rel="external"
                        class="lang-switch"
                        hreflang=move || match i18n.get_locale() {
                            Locale::ja => "en",
                            Locale::en => "ja",
                        }
                        aria-label=move || t_string!(i18n, switch_lang_label).to_string()
                    >
                        {t!(i18n, switch_lang)}
                    </a>
                    <AccountNav />
                </nav>
            </div>
        </header>
    }
}

#[component]
fn SiteFooter() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <footer class="site-footer">
            <p>{t!(i18n, footer_note)}</p>
        </footer>
    }
}

/// The instance's public origin (`TSUDOI_PUBLIC_URL`), decided on the server and shipped
/// with the page, for absolute links the browser cannot derive alone (webcal
/// subscriptions, canonical URLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigin(pub String);

impl SiteOrigin {
    /// `webcal://host/path`: calendar apps subscribe to it instead of downloading once.
    pub fn webcal(&self, path: &str) -> String {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, r)| r);
        format!("webcal://{rest}{path}")
    }

    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

fn provide_site_origin() {
    let origin = leptos::server::SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<crate::server::state::AppState>().map(|s| s.config.public_url.clone()).unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            String::new()
        }
    })
    .into_inner();
    provide_context(SiteOrigin(origin));
}

/// The site origin provided by [`App`].
pub fn use_site_origin() -> SiteOrigin {
    use_context::<SiteOrigin>().unwrap_or_else(|| SiteOrigin(String::new()))
}

/// leptos_meta writes the server-rendered `<title>` text unescaped, so a title containing
/// `</title>` could end the element and inject markup: escape it for the HTML the server
/// sends. In the browser the title is set as text (`document.title`) and stays as is.
fn title_text(title: String) -> String {
    #[cfg(feature = "ssr")]
    {
        title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }
    #[cfg(not(feature = "ssr"))]
    {
        title
    }
}
