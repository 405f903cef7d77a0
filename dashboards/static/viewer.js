// The Somana 3D part viewer: three.js (vendored, served locally) drawing a preview mesh sent as
// base64 little-endian buffers (float32 vertices, uint32 triangles, float32 edge segments).
// Used by the served configurator (Panel JSComponent: `render`) and by the static gallery
// pages (`createViewer`). The last drawn mesh stays on screen until a new payload has been
// decoded and drawn, so a slow or failed rebuild never blanks the view.
import * as THREE from "three"
import { OrbitControls } from "three/addons/controls/OrbitControls.js"

const STYLE = `
.somana-viewer { position: relative; width: 100%; height: 100%; min-height: 240px;
  background: linear-gradient(#f7f8fa, #e6e9ee); border-radius: 6px; overflow: hidden; }
.somana-viewer canvas { display: block; width: 100%; height: 100%; touch-action: none; }
.somana-viewer .busy { position: absolute; top: 10px; right: 10px; display: none; align-items: center;
  gap: 8px; padding: 4px 10px; border-radius: 12px; background: rgba(255,255,255,0.85);
  font: 12px system-ui, sans-serif; color: #334; }
.somana-viewer.is-busy .busy { display: flex; }
.somana-viewer .spinner { width: 12px; height: 12px; border: 2px solid #99a; border-top-color: #246;
  border-radius: 50%; animation: somana-spin 0.8s linear infinite; }
@keyframes somana-spin { to { transform: rotate(360deg); } }
.somana-viewer .note { position: absolute; left: 10px; bottom: 8px; font: 12px system-ui, sans-serif;
  color: #556; }
`

function decode(b64, Type) {
  if (!b64) return new Type(0)
  const bin = atob(b64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return new Type(bytes.buffer)
}

export function createViewer(el) {
  const root = document.createElement("div")
  root.className = "somana-viewer"
  const style = document.createElement("style")
  style.textContent = STYLE
  const busy = document.createElement("div")
  busy.className = "busy"
  busy.innerHTML = '<div class="spinner"></div><span>updating…</span>'
  const note = document.createElement("div")
  note.className = "note"
  root.append(style, busy, note)
  el.append(root)

  let renderer
  try {
    // preserveDrawingBuffer: tests and screenshots read the canvas pixels back.
    renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true })
  } catch (err) {
    note.textContent = "3D view unavailable: this browser has no WebGL"
    root.dataset.error = String(err)
    return { show() {}, setBusy() {}, setNote(t) { note.textContent = t }, dispose() {}, root }
  }
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2))
  root.prepend(renderer.domElement)

  const scene = new THREE.Scene()
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8899aa, 2.2))
  const sun = new THREE.DirectionalLight(0xffffff, 1.6)
  sun.position.set(1, 1.5, 2)
  scene.add(sun)
  const camera = new THREE.PerspectiveCamera(35, 1, 0.1, 10000)
  camera.up.set(0, 0, 1)  // CAD convention: Z is up
  camera.position.set(150, -200, 120)
  const controls = new OrbitControls(camera, renderer.domElement)
  controls.enableDamping = false

  const material = new THREE.MeshStandardMaterial({ color: 0x4f86c6, metalness: 0.05, roughness: 0.6,
                                                    side: THREE.DoubleSide, polygonOffset: true,
                                                    polygonOffsetFactor: 1, polygonOffsetUnits: 1 })
  const edgeMaterial = new THREE.LineBasicMaterial({ color: 0x1d2b3a })
  let group = null
  let pending = false
  let shownBox = null  // the drawn part's bounding box (mm)
  const DEFAULT_DIRECTION = new THREE.Vector3(0.9, -1.3, 0.8).normalize()

  function draw() {
    pending = false
    renderer.render(scene, camera)
  }
  function requestDraw() {
    if (!pending) { pending = true; requestAnimationFrame(draw) }
  }
  controls.addEventListener("change", requestDraw)

  function resize() {
    const w = root.clientWidth || 400, h = root.clientHeight || 300
    renderer.setSize(w, h, false)
    const changed = Math.abs(camera.aspect - w / h) > 1e-3
    camera.aspect = w / h
    camera.updateProjectionMatrix()
    if (changed && shownBox) fit(shownBox, currentDirection())  // a new shape of view: keep the part whole
    reportFraming()
    requestDraw()
  }
  const observer = new ResizeObserver(resize)
  observer.observe(root)

  // Frame `box`: the camera looks from `direction` (default: the person's current one, so a turned
  // part stays turned) at the box's centre, far enough that the whole box is in view whatever the
  // view's shape (a tall phone view is narrower than it is high).
  function fit(box, direction) {
    const size = box.getSize(new THREE.Vector3())
    const center = box.getCenter(new THREE.Vector3())
    const radius = Math.max(size.length() / 2, 1)
    const halfV = THREE.MathUtils.degToRad(camera.fov / 2)
    const halfH = Math.atan(Math.tan(halfV) * Math.max(camera.aspect, 0.05))
    const distance = radius / Math.sin(Math.min(halfV, halfH)) * 1.05
    const look = (direction || DEFAULT_DIRECTION).clone().normalize()
    camera.position.copy(center).addScaledVector(look, distance)
    camera.near = distance / 100
    camera.far = distance * 100
    camera.updateProjectionMatrix()
    controls.target.copy(center)
    controls.update()
  }
  function currentDirection() {
    return camera.position.clone().sub(controls.target).normalize()
  }
  // What tests and people can check: is every corner of the part inside the picture?
  function reportFraming() {
    if (!shownBox) return
    camera.updateMatrixWorld()
    const { min, max } = shownBox
    let inside = true
    for (const x of [min.x, max.x]) for (const y of [min.y, max.y]) for (const z of [min.z, max.z]) {
      const p = new THREE.Vector3(x, y, z).project(camera)
      if (Math.abs(p.x) > 1 || Math.abs(p.y) > 1 || p.z > 1) inside = false
    }
    const d = currentDirection()
    root.dataset.inView = inside ? "1" : "0"
    root.dataset.cameraDistance = camera.position.distanceTo(controls.target).toFixed(2)
    root.dataset.cameraDirection = [d.x, d.y, d.z].map(v => v.toFixed(4)).join(",")
  }
  controls.addEventListener("change", reportFraming)

  // payload: {vertices, triangles, edges (base64), revision, fit (bool), color (optional "#rrggbb")}
  function show(payload) {
    if (!payload || !payload.vertices) return
    const positions = decode(payload.vertices, Float32Array)
    const index = decode(payload.triangles, Uint32Array)
    const edgePositions = decode(payload.edges, Float32Array)
    const geometry = new THREE.BufferGeometry()
    geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3))
    geometry.setIndex(new THREE.BufferAttribute(index, 1))
    geometry.computeVertexNormals()
    geometry.computeBoundingBox()
    const next = new THREE.Group()
    next.add(new THREE.Mesh(geometry, material))
    if (edgePositions.length) {
      const edges = new THREE.BufferGeometry()
      edges.setAttribute("position", new THREE.BufferAttribute(edgePositions, 3))
      next.add(new THREE.LineSegments(edges, edgeMaterial))
    }
    if (payload.color) material.color.set(payload.color)
    const first = group === null
    const direction = first || payload.fit ? null : currentDirection()
    if (group) {
      scene.remove(group)
      group.traverse(o => o.geometry && o.geometry.dispose())
    }
    group = next
    scene.add(group)
    shownBox = geometry.boundingBox.clone()
    resize()
    fit(shownBox, direction)  // every new part is framed whole; a new family from the default side
    draw()  // draw now, so the revision below is true when it is read
    reportFraming()
    root.dataset.revision = String(payload.revision ?? "")
    root.dataset.triangles = String(index.length / 3)
    // the drawn geometry's own fingerprint (what the browser decoded, not what the payload says)
    const b = geometry.boundingBox
    root.dataset.vertices = String(positions.length / 3)
    root.dataset.drawnBbox = [b.min.x, b.min.y, b.min.z, b.max.x, b.max.y, b.max.z].map(v => v.toFixed(2)).join(",")
    if (payload.bbox_mm) root.dataset.bbox = payload.bbox_mm.join(",")  // mm: xmin,ymin,zmin,xmax,ymax,zmax
    return payload.revision
  }

  function setBusy(on) { root.classList.toggle("is-busy", !!on); root.dataset.busy = on ? "1" : "0" }
  function setNote(text) { note.textContent = text || "" }
  function dispose() {
    observer.disconnect()
    controls.dispose()
    renderer.dispose()
  }
  return { show, setBusy, setNote, dispose, root }
}

// Panel JSComponent entry point (dashboards/viewer.py: MeshViewer).
export function render({ model, el }) {
  const viewer = createViewer(el)
  const update = () => {
    const revision = viewer.show(model.payload)
    if (revision !== undefined && revision !== null) model.drawn_revision = revision
  }
  update()
  viewer.setBusy(model.busy)
  viewer.setNote(model.note)
  model.on("payload", update)
  model.on("busy", () => viewer.setBusy(model.busy))
  model.on("note", () => viewer.setNote(model.note))
  model.on("remove", () => viewer.dispose())
}
