//! `reissue`: reads the command line and hands over to the library.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    reissue_api::telemetry::init("info");
    let cli = reissue_api::cli::Cli::parse();
    match reissue_api::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}
