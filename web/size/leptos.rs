//! Size floor (`cargo xtask bench`, "where the web app's size goes"): Leptos CSR alone,
//! one signal and one button.

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        use leptos::prelude::*;
        leptos::mount::mount_to_body(|| {
            let count = RwSignal::new(0);
            view! { <button on:click=move |_| count.update(|c| *c += 1)>{move || count.get()}</button> }
        });
    }
}
