//! Running a validator: wiring the store, the network, the driver and the API together.

use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use courtledger_chain::MempoolLimits;
use courtledger_network::{NetworkConfig, PeerInfo};
use courtledger_storage::{RocksStore, Store as _};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tracing::{error, info};

use crate::api::guard::{self, ConnectionLimits, ConnectionMetrics};
use crate::api::{router, ApiState};
use crate::config::{Config, LogFormat};
use crate::driver::{consensus_config, BlockPacing, Driver, DriverConfig, DriverInput};
use crate::events::Hub;
use crate::home::Home;
use crate::metrics::Metrics;
use crate::status::Status;

/// Depth of the driver's inbox (network events and API requests).
const DRIVER_INBOX: usize = 16 * 1024;

/// Sets up logging as configured.
pub fn init_logging(config: &Config) {
    use std::io::IsTerminal as _;
    // malachite's core logs every vote at info; keep it at warn unless asked otherwise.
    let directives = format!(
        "{},arc_malachitebft_core_consensus=warn,arc_malachitebft_core_driver=warn",
        config.log.level
    );
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directives));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs the validator of `home` until SIGTERM or SIGINT (exit 0) or a fatal error.
pub fn run(home: Home) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("courtledger-io")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(home))
}

async fn run_async(home: Home) -> anyhow::Result<()> {
    let Home {
        dir,
        config,
        genesis,
        key,
    } = home;
    let data_dir = Config::resolve(&dir, &config.node.data_dir);
    let store = open_store(&data_dir, &genesis)?;
    let store = Arc::new(RwLock::new(store));

    let peers = PeerInfo::from_genesis(&genesis);
    let network_config = NetworkConfig::new(key.clone(), config.p2p.listen, peers);
    let (network, mut events) = courtledger_network::start(network_config).await?;
    info!(p2p = %network.local_addr(), chain_id = %genesis.chain_id(), "network started");

    let mut registry = Registry::default();
    let metrics = Arc::new(Metrics::new(&mut registry));
    let api_metrics = ConnectionMetrics::register(&mut registry);
    let status = Arc::new(Status::default());
    let (inbox_tx, inbox_rx) = sync_channel::<DriverInput>(DRIVER_INBOX);
    let hub = Hub::default();

    let driver_config = DriverConfig {
        consensus: consensus_config(&genesis, key),
        genesis: genesis.clone(),
        mempool: MempoolLimits {
            max_txs: config.mempool.max_txs,
            max_bytes: config.mempool.max_bytes,
        },
        empty_block_wait: Duration::from_millis(config.consensus.empty_block_wait_ms),
        block_pacing: BlockPacing {
            pace: Duration::from_millis(config.consensus.block_pace_ms),
            min_rate: u64::from(config.consensus.block_pace_min_rate),
            target_txs: usize::try_from(config.consensus.block_pace_target_txs)
                .unwrap_or(usize::MAX),
        },
    };
    let driver = Driver::start(
        driver_config,
        store.clone(),
        network.clone(),
        status.clone(),
        metrics,
        hub.clone(),
    )?;
    let driver_thread = std::thread::Builder::new()
        .name("courtledger-driver".into())
        .spawn(move || driver.run(inbox_rx))
        .context("cannot start the driver thread")?;

    // Network events go to the driver; a full inbox pushes back on the network's readers.
    let forward = inbox_tx.clone();
    tokio::task::spawn_blocking(move || {
        while let Some(event) = events.blocking_recv() {
            if forward.send(DriverInput::Network(Box::new(event))).is_err() {
                break;
            }
        }
    });

    let api_state = ApiState::new(
        genesis.chain_id(),
        store.clone(),
        inbox_tx.clone(),
        status,
        Arc::new(registry),
        hub.clone(),
    )
    .with_genesis(Arc::new(genesis.clone()));
    let listener = TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("cannot listen for the API on {}", config.api.listen))?;
    info!(api = %config.api.listen, "API listening");
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_limits = ConnectionLimits {
        per_client: config.api.max_connections_per_ip,
        ..ConnectionLimits::default()
    };
    let api = tokio::spawn(guard::serve(
        listener,
        router(api_state),
        api_limits,
        api_metrics,
        async {
            let _ = api_stopped.await;
        },
    ));

    // Wait for a signal, or for the driver to stop on its own (a fatal error).
    let driver_done = tokio::task::spawn_blocking(move || driver_thread.join());
    tokio::pin!(driver_done);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let outcome = tokio::select! {
        _ = terminate.recv() => { info!("SIGTERM: stopping"); None }
        _ = tokio::signal::ctrl_c() => { info!("SIGINT: stopping"); None }
        joined = &mut driver_done => Some(joined),
    };
    let result = match outcome {
        Some(joined) => match joined {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) | Err(_) => Err(anyhow::anyhow!("the driver thread panicked")),
        },
        None => {
            // The driver finishes the action it is carrying out, then stops.
            let _ = inbox_tx.send(DriverInput::Shutdown);
            match driver_done.await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err(e),
                _ => Err(anyhow::anyhow!("the driver thread panicked")),
            }
        }
    };
    // No event will come: end the event streams and waiting submissions, so that the API's
    // graceful shutdown does not wait for them.
    hub.close();
    let _ = stop_api.send(());
    let _ = api.await;
    network.shutdown().await;
    if let Err(e) = &result {
        error!("stopped: {e:#}");
    } else {
        info!("stopped");
    }
    // The state writes of the last blocks go into their columns, so that the next start
    // replays none (a crash replays them from their records instead); then dropping the store
    // closes RocksDB, flushing its memtables.
    let flushed = store
        .write()
        .map_err(|_| anyhow::anyhow!("the store lock is poisoned"))
        .and_then(|mut store| {
            store
                .flush_state()
                .context("writing the pending state at shutdown")
        });
    drop(store);
    result.and(flushed)
}

fn open_store(data_dir: &Path, genesis: &courtledger_types::Genesis) -> anyhow::Result<RocksStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    RocksStore::open(data_dir, genesis.chain_id())
        .with_context(|| format!("cannot open the database in {}", data_dir.display()))
}
