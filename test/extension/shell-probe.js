// Test only: evaluated once inside gnome-shell (org.gnome.Shell.Eval, where `Main` is in scope),
// it installs globalThis.selfhealProbe, which the end-to-end test calls to look at and press the
// extension's widgets through the shell's own objects, time them, and watch for leaks.
/* global imports, Main */
(() => {
  const { Clutter, GLib, GObject, St } = imports.gi;
  const UUID = "selfheal@selfheal.github.io";
  const LEVELS = ["ok", "degraded", "critical", "offline"];

  const button = () => Main.panel.statusArea[UUID] ?? null;
  const menuBox = () => button()?.menu.box ?? null;

  // Every widget under `root` with style class `cls` (any, for null), in tree order.
  const all = (root, cls) => {
    const found = [];
    const walk = (actor) => {
      if (actor instanceof St.Widget && (cls === null || actor.has_style_class_name(cls))) found.push(actor);
      for (const child of actor.get_children()) walk(child);
    };
    if (root) walk(root);
    return found;
  };
  const one = (root, cls) => all(root, cls)[0] ?? null;
  const textOf = (root, cls) => {
    const widget = one(root, cls);
    return widget ? (widget instanceof St.Button ? widget.label : widget.text) : null;
  };
  // The overview's app grid follows the installed and running apps, not the extension: left out.
  const counted = (actor) => actor !== Main.overview._overview;
  const countActors = (actor) => 1 + actor.get_children().filter(counted).reduce((sum, child) => sum + countActors(child), 0);

  const iconName = () => {
    const gicon = one(button(), "selfheal-indicator-icon")?.gicon;
    return gicon ? gicon.to_string().replace(/^.*\//, "").replace(/\.svg$/, "") : null;
  };
  const level = () => LEVELS.find((name) => button()?.has_style_class_name(`selfheal-level-${name}`)) ?? null;
  const visibleText = (label) => (label && label.visible ? label.text : null);

  // Rows of the view on show (other views' rows are not in the menu while hidden).
  const rows = {
    processes: () =>
      all(menuBox(), "selfheal-process-row").map((row) => ({
        name: textOf(row, "selfheal-col-name"),
        state: textOf(row, "selfheal-col-state"),
        pid: textOf(row, "selfheal-col-pid"),
        restarts: textOf(row, "selfheal-col-restarts"),
        // The samples the row's sparkline drew at its last paint (null before any).
        trendPoints: one(row, "selfheal-sparkline")?.selfheal_points ?? null,
      })),
    anomalies: () =>
      all(menuBox(), "selfheal-anomaly-row").map((row) => ({
        process: textOf(row, "selfheal-col-name"),
        pid: textOf(row, "selfheal-col-pid"),
        kind: textOf(row, "selfheal-col-kind"),
        action: textOf(row, "selfheal-col-action"),
        // A memory leak's curve: the samples drawn at its last paint (null without one, or before any).
        curvePoints: one(row, "selfheal-leak-curve")?.selfheal_points ?? null,
      })),
    zombies: () =>
      all(menuBox(), "selfheal-zombie-row").map((row) => ({
        title: textOf(row, "selfheal-col-zombie"),
        parent: textOf(row, "selfheal-col-parent"),
      })),
    cooldowns: () =>
      all(menuBox(), "selfheal-cooldown-row").map((row) => ({
        name: textOf(row, "selfheal-col-name"),
        remaining: textOf(row, "selfheal-col-remaining"),
      })),
  };

  // The Zombies view's parent rows: title, detail, whether "End parent…" shows, and the question
  // once it was pressed.
  const parentRows = () => all(menuBox(), "selfheal-zombie-parent");
  const zombieParents = () =>
    parentRows().map((row) => ({
      title: textOf(row, "selfheal-name"),
      detail: textOf(row, "selfheal-zombie-parent-detail"),
      canAsk: one(row, "selfheal-end-parent")?.visible ?? false,
      question: visibleText(one(row, "selfheal-end-parent-question")),
    }));
  // Presses a button (by style class) of the parent row of PID `ppid`, if it shows and can be pressed.
  const pressZombieParent = (ppid, buttonClass) => {
    const row = parentRows().find((candidate) => (textOf(candidate, "selfheal-name") ?? "").endsWith(`(PID ${ppid})`));
    const target = row ? one(row, buttonClass) : null;
    if (!target || !target.visible || !target.reactive) return false;
    target.emit("clicked", 1);
    return true;
  };

  const rowOf = (cls, name) => all(menuBox(), cls).find((row) => textOf(row, "selfheal-col-name") === name) ?? null;

  // The screen area of the indicator and its open menu, with a margin, for screenshots; null while
  // the open menu is not laid out yet (not mapped, or of no size: a loaded machine lays it out a
  // few frames after open()). Clamped to the stage, which the screenshot service insists on.
  const menuArea = (margin) => {
    const actors = [button()];
    if (button().menu.isOpen) actors.push(button().menu.actor);
    let left = Infinity;
    let right = 0;
    let bottom = 0;
    for (const actor of actors) {
      const [x, y] = actor.get_transformed_position();
      const [width, height] = actor.get_transformed_size();
      if (!actor.mapped || !(width > 0) || !(height > 0) || !Number.isFinite(x) || !Number.isFinite(y)) return null;
      left = Math.min(left, x);
      right = Math.max(right, x + width);
      bottom = Math.max(bottom, y + height);
    }
    const x = Math.max(0, Math.floor(left - margin));
    const width = Math.min(global.stage.width, Math.ceil(right + margin)) - x;
    const height = Math.min(global.stage.height, Math.ceil(bottom + margin));
    return width > 0 && height > 0 ? { x, y: 0, width, height } : null;
  };

  // How the closed menu is styled: its actor's inline style, whether it has the :focus
  // pseudo-class (St gives it to the actor with the key focus: the open's grab gives that to the
  // menu's actor), and how many widgets on show in it (hidden ones and what is in them left out)
  // have no style resolved (no theme node: St drops a widget's when its style, or an ancestor's,
  // changes). Null while the menu is open or on show.
  const closedMenuStyling = () => {
    const actor = button()?.menu.actor;
    if (!actor || button().menu.isOpen || actor.visible) return null;
    let unstyled = 0;
    const walk = (widget) => {
      if (widget instanceof St.Widget && widget.peek_theme_node() === null) unstyled++;
      for (const child of widget.get_children()) if (child.visible) walk(child);
    };
    walk(actor);
    return { style: actor.style ?? null, focus: actor.has_style_pseudo_class("focus"), unstyled };
  };

  // closedMenuStyling() as it is once the main loop has done what comes before its idle callbacks
  // of low priority (St's updates of :first-child and :last-child among them, which restyle):
  // looked at in such a callback, and kept in probe.closedStyling ({ value }, null until then).
  const measureClosedMenuStyling = () => {
    probe.closedStyling = null;
    GLib.idle_add(GLib.PRIORITY_LOW, () => {
      probe.closedStyling = { value: closedMenuStyling() };
      return GLib.SOURCE_REMOVE;
    });
    return true;
  };

  // Counts, until stop() (which returns the count), the widgets of the menu whose style is
  // recomputed (their style-changed).
  const watchRestyles = () => {
    let restyled = 0;
    const watched = all(button().menu.actor, null).map((widget) => [widget, widget.connect("style-changed", () => restyled++)]);
    return {
      stop: () => {
        for (const [widget, id] of watched) widget.disconnect(id);
        return restyled;
      },
    };
  };

  // Opens the menu; returns how many of its widgets the open restyled.
  const openCountingRestyles = () => {
    const restyles = watchRestyles();
    button().menu.open(false);
    return restyles.stop();
  };

  // Records, from now on, the wall-clock time of every change of the indicator's icon and count.
  const watchIndicator = () => {
    const changes = [];
    const icon = one(button(), "selfheal-indicator-icon");
    const count = one(button(), "selfheal-indicator-count");
    icon.connect("notify::gicon", () => changes.push({ usec: GLib.get_real_time(), what: "icon", value: iconName() }));
    count.connect("notify::text", () => changes.push({ usec: GLib.get_real_time(), what: "count", value: count.text }));
    probe.indicatorChanges = changes;
    return true;
  };

  // Notes, from now on, the wall-clock time at which the menu next opens (probe.menuOpenedUsec).
  const watchMenuOpen = () => {
    probe.menuOpenedUsec = null;
    const menu = button().menu;
    const id = menu.connect("open-state-changed", (_menu, open) => {
      if (!open) return;
      probe.menuOpenedUsec = GLib.get_real_time();
      menu.disconnect(id);
    });
    return true;
  };

  // Notes, from now on, when the process row titled `title` first shows a PID (a number in its
  // PID column) and when the stage next paints a frame after that, as GLib.get_real_time()
  // (probe.rowTimes: { pid, pidUsec, paintUsec, frames, framesWithNeither }). Exact to the event,
  // not to a poll: the row is looked at as the list gains a child (a row is built with its
  // figures, then inserted) and as the PID label of that row changes; the frame is the stage's
  // after-paint. `frames` counts the frames painted until the row's; `framesWithNeither` those
  // among them that showed neither the "Watch an app…" list nor the row; `listGoneFirst` says
  // whether that list was hidden before the row had its PID (whether or not a frame showed it);
  // `pidAtInsert` whether the row had its PID when it came into the list (not set by a later refresh).
  const watchProcessRow = (title) => {
    const times = { pid: null, pidUsec: null, paintUsec: null, frames: 0, framesWithNeither: 0, listGoneFirst: false, pidAtInsert: null };
    probe.rowTimes = times;
    const list = one(menuBox(), "selfheal-process-list");
    const appList = one(menuBox(), "selfheal-app-list");
    const stage = global.stage;
    const ended = [];
    const end = () => {
      for (const stop of ended.splice(0)) stop();
    };
    const connectTo = (object, signal, callback) => {
      const id = object.connect(signal, callback);
      ended.push(() => object.disconnect(id));
    };
    const pidShown = (label) => {
      if (times.pidUsec !== null || !/^\d+$/.test(label.text ?? "")) return;
      times.pidUsec = GLib.get_real_time();
      times.pid = label.text;
    };
    const follow = (row) => {
      if (times.pidUsec !== null || textOf(row, "selfheal-col-name") !== title) return;
      const label = one(row, "selfheal-col-pid");
      if (!label) return;
      pidShown(label);
      times.pidAtInsert ??= times.pidUsec !== null;
      if (times.pidUsec === null) connectTo(label, "notify::text", () => pidShown(label));
    };
    for (const row of all(list, "selfheal-process-row")) follow(row);
    // ClutterActor::child-added from GNOME 46 on; ClutterContainer::actor-added before.
    const added = GObject.signal_lookup("child-added", list) !== 0 ? "child-added" : "actor-added";
    connectTo(list, added, (_list, child) => follow(child));
    const appListHolder = appList?.get_parent();
    if (appListHolder) {
      connectTo(appListHolder, "notify::visible", () => {
        if (!appListHolder.visible && times.pidUsec === null) times.listGoneFirst = true;
      });
    }
    connectTo(stage, "after-paint", () => {
      times.frames++;
      if (times.pidUsec !== null) {
        times.paintUsec = GLib.get_real_time();
        end();
      } else if (!(appList?.is_mapped() ?? false)) {
        times.framesWithNeither++;
      }
    });
    return true;
  };

  // The CPU time the shell's main thread (this one) has had, in milliseconds: a count that the
  // machine's load does not stretch as it stretches the wall clock.
  const mainThreadCpuMs = () => {
    const [, bytes] = GLib.file_get_contents("/proc/thread-self/schedstat");
    return Number(new TextDecoder().decode(bytes).split(" ")[0]) / 1e6;
  };

  // Opens the menu and notes (in probe.menuTimes), from the call: when open() returned (the
  // extension's synchronous work, before which no frame can be painted), the first frame painted
  // and how many process rows it had, when `expected` process rows were in the menu (checked at
  // once, then every millisecond, by counting the list's children: a walk of the whole menu each
  // millisecond would itself hold the main loop), and the first frame painted after that (the rows
  // and their sparklines laid out and drawn); each with the main thread's CPU time.
  //
  // It also counts the widgets of the menu whose style the open recomputed (their style-changed,
  // emitted while open() ran): none when the closed menu was styled as the open has it.
  const timeMenuBuild = (expected, limitMs = 10_000) => {
    const times = { openMs: null, firstFrameMs: null, firstFrameRows: null, buildMs: null, paintMs: null, openCpuMs: null, firstFrameCpuMs: null, paintCpuMs: null, restyled: null };
    probe.menuTimes = times;
    const restyles = watchRestyles();
    const start = GLib.get_monotonic_time();
    const startCpu = mainThreadCpuMs();
    const elapsedMs = () => (GLib.get_monotonic_time() - start) / 1000;
    const processRows = () => all(menuBox(), "selfheal-process-row");
    const stage = global.stage;
    const paintId = stage.connect("after-paint", () => {
      if (times.firstFrameMs === null) {
        times.firstFrameMs = elapsedMs();
        times.firstFrameCpuMs = mainThreadCpuMs() - startCpu;
        times.firstFrameRows = processRows().length;
      }
      if (times.buildMs === null) return;
      times.paintMs = elapsedMs();
      times.paintCpuMs = mainThreadCpuMs() - startCpu;
      stage.disconnect(paintId);
    });
    button().menu.open(false);
    times.openMs = elapsedMs();
    times.openCpuMs = mainThreadCpuMs() - startCpu;
    times.restyled = restyles.stop();
    const list = one(menuBox(), "selfheal-process-list");
    const check = () => {
      if (list.get_n_children() >= expected) {
        times.buildMs = elapsedMs();
        stage.queue_redraw();
        return GLib.SOURCE_REMOVE;
      }
      if (elapsedMs() > limitMs) {
        stage.disconnect(paintId);
        return GLib.SOURCE_REMOVE;
      }
      return GLib.SOURCE_CONTINUE;
    };
    if (check() === GLib.SOURCE_CONTINUE) GLib.timeout_add(GLib.PRIORITY_DEFAULT, 1, check);
    return true;
  };

  // Watches every signal connection and main-loop source the extension's code makes, until
  // stopLeakWatch() reports what outlived it. Ours are those whose direct caller is a file of the
  // extension: what the shell's own classes connect while the extension builds them (a menu item's
  // click action, the panel's tracking of a menu) is the shell's to undo, whichever version it is.
  const startLeakWatch = () => {
    const ours = function selfhealProbeOurs() {
      const caller = (new Error().stack ?? "").split("\n").find((frame) => frame !== "" && !frame.startsWith("selfhealProbe"));
      return (caller ?? "").includes(`/extensions/${UUID}/`);
    };
    const proto = GObject.Object.prototype;
    const original = {
      connect: proto.connect,
      connect_after: proto.connect_after,
      disconnect: proto.disconnect,
      run_dispose: proto.run_dispose,
      timeout_add: GLib.timeout_add,
      timeout_add_seconds: GLib.timeout_add_seconds,
      idle_add: GLib.idle_add,
    };
    const connections = [];
    const sources = [];
    for (const name of ["connect", "connect_after"]) {
      proto[name] = function selfhealProbeConnect(...args) {
        const id = original[name].apply(this, args);
        if (ours()) {
          const record = { object: this, id, signal: String(args[0]), type: this.constructor?.name ?? "?", destroyed: false, ended: false };
          if (this instanceof Clutter.Actor) original.connect.call(this, "destroy", () => (record.destroyed = true));
          connections.push(record);
        }
        return id;
      };
    }
    // Connections ended by disconnect() or by disposing their object need no further look (and a
    // disposed object must not be touched again).
    proto.disconnect = function (id) {
      for (const record of connections) if (record.object === this && record.id === id) record.ended = true;
      return original.disconnect.call(this, id);
    };
    proto.run_dispose = function () {
      for (const record of connections) if (record.object === this) record.ended = true;
      return original.run_dispose.call(this);
    };
    for (const name of ["timeout_add", "timeout_add_seconds", "idle_add"]) {
      GLib[name] = function selfhealProbeAddSource(...args) {
        const id = original[name](...args);
        if (ours()) sources.push(id);
        return id;
      };
    }
    probe.leakWatch = { original, connections, sources };
    return true;
  };

  const stopLeakWatch = () => {
    if (!probe.leakWatch) return null;
    const { original, connections, sources } = probe.leakWatch;
    const proto = GObject.Object.prototype;
    proto.connect = original.connect;
    proto.connect_after = original.connect_after;
    proto.disconnect = original.disconnect;
    proto.run_dispose = original.run_dispose;
    GLib.timeout_add = original.timeout_add;
    GLib.timeout_add_seconds = original.timeout_add_seconds;
    GLib.idle_add = original.idle_add;
    probe.leakWatch = null;
    const leakedConnections = connections
      .filter((record) => !record.destroyed && !record.ended && GObject.signal_handler_is_connected(record.object, record.id))
      .map((record) => `${record.type}::${record.signal}`);
    const context = GLib.MainContext.default();
    const leakedSources = sources.filter((id) => context.find_source_by_id(id) !== null).length;
    return { connections: connections.length, sources: sources.length, leakedConnections, leakedSources };
  };

  // How many actors of each kind (type and style class) the stage holds: the difference of two
  // censuses names what appeared.
  const actorCensus = () => {
    const census = {};
    const walk = (actor) => {
      const kind = `${actor.constructor?.name ?? "?"}.${actor instanceof St.Widget ? (actor.get_style_class_name() ?? "") : ""}`;
      census[kind] = (census[kind] ?? 0) + 1;
      for (const child of actor.get_children().filter(counted)) walk(child);
    };
    walk(global.stage);
    return census;
  };

  // Every actor in the stage with one of the extension's style classes.
  const selfhealActors = () => {
    let count = 0;
    const walk = (actor) => {
      if (actor instanceof St.Widget && (actor.get_style_class_name() ?? "").split(/\s+/).some((name) => name.startsWith("selfheal-"))) count++;
      for (const child of actor.get_children()) walk(child);
    };
    walk(global.stage);
    return count;
  };

  // The notifications in the shell's message tray (every source's), newest last.
  const notifications = () => Main.messageTray.getSources().flatMap((source) => source.notifications);
  const titleOf = (notification) => notification.title ?? null;

  // Does what a click on a notification (label null) or on one of its buttons does: the
  // notification's 'activated', or the action's callback; then, unless resident, it goes, as
  // the banner and the tray's message do. Returns GLib.get_real_time() just before, or null when
  // there is no such notification or button.
  const invokeNotification = (title, label) => {
    const notification = notifications().find((candidate) => titleOf(candidate) === title);
    if (!notification) return null;
    const action = label === null ? null : notification.actions.find((candidate) => candidate.label === label);
    if (label !== null && !action) return null;
    const usec = GLib.get_real_time();
    if (action === null) {
      notification.activate();
      return usec;
    }
    if (typeof action.activate === "function") {
      action.activate(); // GNOME 46+: the action destroys a non-resident notification itself
    } else {
      action.callback();
      if (!notification.resident) notification.destroy();
    }
    return usec;
  };

  // Enables the extension once its disable is over. GNOME 45+ disable asynchronously when an
  // extension enabled after it is disabled and enabled again around it; an enable that comes
  // meanwhile is dropped by the shell, and lost for good: the setting lists the extension as
  // enabled, so a later enableExtension() changes nothing. (A disable and an enable in one go, the
  // first time the extension is cycled in GNOME 48, left it off now and then.)
  const DISABLED = 2; // ExtensionState.DISABLED (42-44) and INACTIVE (45+)
  const enableOnceDisabled = () => {
    const manager = Main.extensionManager;
    const state = manager.lookup(UUID)?.state;
    if (state === DISABLED || state === undefined) {
      manager.enableExtension(UUID);
      return;
    }
    const id = manager.connect("extension-state-changed", (_manager, extension) => {
      if (extension.uuid !== UUID || extension.state !== DISABLED) return;
      manager.disconnect(id);
      manager.enableExtension(UUID);
    });
  };

  const probe = {
    button,
    notificationTitles: () => notifications().map(titleOf),
    notificationActions: (title) => notifications().find((candidate) => titleOf(candidate) === title)?.actions.map((action) => action.label) ?? null,
    invokeNotification,
    currentView: () => ["processes", "anomalies", "zombies", "cooldowns"].find((view) => one(menuBox(), `selfheal-tab-${view}`)?.checked) ?? null,
    markedRows: () => all(menuBox(), "selfheal-row-marked").filter((row) => row.visible).map((row) => textOf(row, "selfheal-col-name")),
    state: () => ({
      enabled: Main.extensionManager.lookup(UUID)?.state === 1,
      present: button() !== null,
      icon: iconName(),
      level: level(),
      count: visibleText(one(button(), "selfheal-indicator-count")),
      summary: textOf(menuBox(), "selfheal-summary"),
      menuOpen: button()?.menu.isOpen ?? false,
      offline: one(menuBox(), "selfheal-offline-item")?.visible ?? null,
    }),
    open: () => (button().menu.open(false), true),
    close: () => (button().menu.close(false), true),
    show: (view) => (one(menuBox(), `selfheal-tab-${view}`).emit("clicked", 1), true),
    tabs: () => ["processes", "anomalies", "zombies", "cooldowns"].map((view) => textOf(menuBox(), `selfheal-tab-${view}`)),
    rows: (view) => rows[view](),
    // How many process rows the menu holds: rows('processes').length without reading each row
    // (which, polled while the rows are built, takes the shell's main thread from the build).
    processRowCount: () => all(menuBox(), "selfheal-process-row").length,
    // The inline style of the menu's actor (the shell's PanelMenu.Button sets its max-height at
    // every open) and whether the menu was ever opened.
    menuStyle: () => button()?.menu.actor.style ?? null,
    measureClosedMenuStyling,
    closedStyling: null,
    openCountingRestyles,
    emptyText: () => all(menuBox(), "selfheal-empty").filter((label) => label.visible).map((label) => label.text)[0] ?? null,
    statusLine: () => visibleText(one(menuBox(), "selfheal-status")),
    cleanupResult: () => textOf(menuBox(), "selfheal-cleanup-result"),
    pressRowButton: (rowClass, name, buttonClass) => {
      const target = one(rowOf(rowClass, name), buttonClass);
      if (!target || !target.reactive) return false;
      target.emit("clicked", 1);
      return true;
    },
    zombieParents,
    pressZombieParent,
    pressCleanup: () => (one(menuBox(), "selfheal-cleanup").emit("clicked", 1), true),
    menuArea,
    watchIndicator,
    watchMenuOpen,
    watchProcessRow,
    timeMenuBuild,
    startLeakWatch,
    stopLeakWatch,
    stageActors: () => countActors(global.stage),
    actorCensus,
    selfhealActors,
    cycle: () => {
      Main.extensionManager.disableExtension(UUID);
      enableOnceDisabled();
      return true;
    },
    // What a test that failed half-way may leave behind, undone: the leak watch's wrappers, the
    // extension disabled (or listed as enabled but not running: the disable-and-enable again
    // gets it going), its menu open.
    reset: () => {
      stopLeakWatch();
      if (Main.extensionManager.lookup(UUID)?.state !== 1) {
        Main.extensionManager.disableExtension(UUID);
        enableOnceDisabled();
      }
      button()?.menu.close(false);
      return true;
    },
    disable: () => (Main.extensionManager.disableExtension(UUID), true),
    enable: () => (enableOnceDisabled(), true),
    windowTitles: () => global.get_window_actors().map((actor) => actor.meta_window.get_title()),
    windowArea: (title) => {
      const actor = global.get_window_actors().find((candidate) => candidate.meta_window.get_title() === title);
      if (!actor) return null;
      const rect = actor.meta_window.get_frame_rect();
      const x = Math.max(0, rect.x);
      const y = Math.max(0, rect.y);
      const width = Math.min(global.stage.width, rect.x + rect.width) - x;
      const height = Math.min(global.stage.height, rect.y + rect.height) - y;
      return width > 0 && height > 0 && actor.visible ? { x, y, width, height } : null;
    },
    closeWindow: (title) => {
      const actor = global.get_window_actors().find((candidate) => candidate.meta_window.get_title() === title);
      actor?.meta_window.delete(global.get_current_time());
      return true;
    },
    indicatorChanges: [],
    rowTimes: null,
    menuTimes: null,
    menuOpenedUsec: null,
    leakWatch: null,
  };
  globalThis.selfhealProbe = probe;
  return true;
})();
